//! `build --check`, `diff` and `fmt`: the GitOps commands.

use std::path::Path;
use std::process::ExitCode;

use svcc::diagnostic::Code;
use svcc::diagnostic::render::{self, FileDiagnostics, Format};
use svcc::emit;

use super::inputs::{collect_inputs, io_problem, refused, repo};
use super::output::{committed_folders, read_committed, read_committed_at_ref, replace_file};
use super::*;

fn dir_report(dir: &Path, diagnostics: Vec<Diagnostic>) -> Vec<FileDiagnostics> {
    vec![FileDiagnostics::without_source(Some(dir.display().to_string()), diagnostics)]
}

/// `svcc build -o DIR --check`: render in memory, compare with DIR, write nothing.
pub(super) fn build_check(b: &BuildArgs) -> ExitCode {
    let args = &b.common;
    let Some(dir) = b.output.as_deref() else {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    };
    let c = compile_args(args, true);
    if c.code != EXIT_OK {
        print_diagnostics(args, &c.report, true);
        return ExitCode::from(c.code);
    }
    let artifacts = c.artifacts();
    let existing = match read_committed(dir, &svcc::diff::owned_folders(&artifacts)) {
        Ok(e) => e,
        Err(problems) => {
            print_diagnostics(args, &dir_report(dir, problems), true);
            return ExitCode::from(EXIT_USAGE_OR_IO);
        }
    };
    let changes = svcc::diff::files(&artifacts, &existing);
    print_diagnostics(args, &c.report, false);
    if changes.is_empty() {
        return ExitCode::from(EXIT_OK);
    }
    let shown = dir.display().to_string();
    let mut s = format!("{shown} is out of date: {} file(s) would change\n", changes.len());
    for ch in &changes {
        s.push_str(&format!("  {:<8} {}/{}\n", ch.status.as_str(), shown.trim_end_matches('/'), ch.path));
    }
    if b.verbose {
        for ch in &changes {
            let (old, new) = (ch.old.as_deref().unwrap_or(""), ch.new.as_deref().unwrap_or(""));
            let name = &ch.path;
            let d = similar::TextDiff::from_lines(old, new);
            s.push_str(
                &d.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string(),
            );
        }
    }
    s.push_str("run the same `svcc build` without `--check` to update it\n");
    out(&s);
    ExitCode::from(EXIT_SPEC_ERRORS)
}

/// Parse every YAML file of a tree into manifests (kustomization files included;
/// `diff::objects` skips what is not a Kubernetes object).
fn manifests(files: &std::collections::BTreeMap<String, String>) -> Result<Vec<svcc::diff::Manifest>, String> {
    let mut out = Vec::new();
    for (path, text) in files {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let docs = emit::parse_documents(text).map_err(|e| format!("`{path}` is not valid YAML: {e}"))?;
        out.extend(docs.into_iter().map(|value| svcc::diff::Manifest { path: path.clone(), value }));
    }
    Ok(out)
}

/// `svcc diff`: committed output (folder or git revision) against a fresh build.
pub(super) fn diff_command(d: &DiffArgs) -> ExitCode {
    let args = &d.common;
    let c = compile_args(args, true);
    if c.code != EXIT_OK {
        print_diagnostics(args, &c.report, true);
        return ExitCode::from(c.code);
    }
    let artifacts = c.artifacts();
    let dir = d.output.as_path();
    let mut folders = svcc::diff::owned_folders(&artifacts);
    let read = |folders: &mut Vec<String>| -> Result<_, Vec<Diagnostic>> {
        if d.prune {
            // Every `<service>/<environment>` folder under DIR, even those no spec builds.
            for f in committed_folders(dir)? {
                if !folders.contains(&f) {
                    folders.push(f);
                }
            }
        }
        match &d.git_ref {
            Some(rev) => read_committed_at_ref(dir, rev, folders),
            None => read_committed(dir, folders),
        }
    };
    let fresh: std::collections::BTreeMap<String, String> =
        artifacts.iter().map(|a| (a.path.clone(), a.contents.clone())).collect();
    let parsed = read(&mut folders).and_then(|old| {
        let parse = |files| manifests(files).map_err(|e| vec![Diagnostic::error(Code::ReadFailed, e)]);
        Ok((parse(&old)?, parse(&fresh)?))
    });
    let (old, new) = match parsed {
        Ok(p) => p,
        Err(problems) => {
            print_diagnostics(args, &dir_report(dir, problems), true);
            return ExitCode::from(EXIT_USAGE_OR_IO);
        }
    };
    let report = svcc::diff::objects(&old, &new);
    print_diagnostics(args, &c.report, false);
    match args.format {
        FormatArg::Json => {
            let text = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
            out(&format!("{text}\n"));
        }
        FormatArg::Human | FormatArg::Github | FormatArg::Sarif => {
            out(&report.to_text());
        }
    }
    ExitCode::from(if report.breaking_count() > 0 { EXIT_BREAKING } else { EXIT_OK })
}

/// Rewrite a spec in place for `fmt`: atomically, and never through a link
/// (the file a link points to may be outside the repository).
fn rewrite_spec(path: &Path, text: &str) -> Result<(), Box<FileDiagnostics>> {
    let name = path.display();
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        let mut d = Diagnostic::error(
            Code::SymlinkRefused,
            format!("`{name}` is a symbolic link; `svcc fmt` does not write through it"),
        )
        .help("run `svcc fmt` on the file it points to, if that file is yours to change");
        if let Ok(target) = std::fs::read_link(path) {
            d = d.note(format!("it points to `{}`", target.display()));
        }
        return Err(Box::new(FileDiagnostics::without_source(Some(name.to_string()), vec![d])));
    }
    replace_file(path, text.as_bytes())
        .map_err(|e| Box::new(io_problem(path, Code::WriteFailed, format!("cannot write `{name}`: {e}"))))
}

/// `svcc fmt [--check]`: rewrite (or list) the specs that are not in the
/// canonical layout. A file with syntax errors is reported and left alone.
pub(super) fn fmt_command(f: &FmtArgs) -> ExitCode {
    let mut problems: Vec<FileDiagnostics> = Vec::new();
    let specs = collect_inputs(&f.files, &mut problems);
    let paths: Vec<&std::path::Path> = specs.iter().map(|s| s.path.as_path()).collect();
    let mut unformatted = Vec::new();
    let mut syntax_errors = false;
    let mut repo = repo(&mut problems);
    for (s, p) in specs.iter().zip(&paths) {
        let name = p.display().to_string();
        let Some(repo) = &mut repo else {
            break;
        };
        let text = match repo.read_spec(p, &s.argument).map(|i| String::from_utf8(i.bytes)) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                problems.push(io_problem(p, Code::NotUtf8, format!("`{name}` is not UTF-8 text")));
                continue;
            }
            Err(why) => {
                problems.push(refused(p, &why));
                continue;
            }
        };
        let mut diags = svcc::diagnostic::Diagnostics::new();
        let formatted = svcc::format::format(&text, &mut diags);
        if !diags.is_empty() {
            syntax_errors = true;
            problems.push(FileDiagnostics {
                file: Some(svcc::source::SourceFile::new(name.clone(), text.as_str())),
                name: None,
                diagnostics: diags.into_sorted(),
                imports: Vec::new(),
            });
        }
        let Some(formatted) = formatted else {
            continue;
        };
        if formatted != text {
            if !f.check
                && let Err(problem) = rewrite_spec(p, &formatted)
            {
                problems.push(*problem);
                continue;
            }
            unformatted.push(name);
        }
    }
    if !problems.is_empty() {
        err(&render::render(Format::Human, &problems, human_style(f.color)));
    }
    if f.check && !unformatted.is_empty() {
        let mut s = format!("{} file(s) not formatted:\n", unformatted.len());
        for n in &unformatted {
            s.push_str(&format!("  {n}\n"));
        }
        s.push_str("run `svcc fmt` on them to fix\n");
        out(&s);
    }
    let io = problems.iter().any(|p| p.file.is_none()) || paths.is_empty();
    if paths.is_empty() && problems.is_empty() {
        err("svcc: no `*.kdl` spec files found in the given folders\n");
    }
    ExitCode::from(if io {
        EXIT_USAGE_OR_IO
    } else if syntax_errors || (f.check && !unformatted.is_empty()) {
        EXIT_SPEC_ERRORS
    } else {
        EXIT_OK
    })
}
