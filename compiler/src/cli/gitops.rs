//! `build --check`, `diff` and `fmt`: the GitOps commands.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use svcc::diagnostic::Code;
use svcc::diagnostic::render::{self, FileDiagnostics, Format};
use svcc::diff::{FileChange, FileStatus};
use svcc::emit;

use super::inputs::{io_problem, refused, repo};
use super::output::{AtRef, exists, marked_folders, read_committed, replace_file, with_extras};
use super::*;

fn dir_report(dir: &Path, diagnostics: Vec<Diagnostic>) -> Vec<FileDiagnostics> {
    vec![FileDiagnostics::without_source(Some(dir.display().to_string()), diagnostics)]
}

/// `svcc build -o DIR --check`: render in memory, compare with DIR, write
/// nothing. With `--prune`, the owned folders no spec builds count as
/// removed, as `build --prune` would remove them.
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
    let shown = dir.display().to_string();
    let mut artifacts = c.artifacts();
    match shared_files(&c.deployed(), dir, b.prune) {
        Ok(files) => artifacts.extend(files),
        Err(errors) => {
            print_diagnostics(args, &dir_report(dir, errors), true);
            return ExitCode::from(EXIT_SPEC_ERRORS);
        }
    }
    let built = svcc::diff::owned_folders(&artifacts);
    let compared = marked_folders(dir).and_then(|marked| {
        // Without `--prune` the folders spanning services are not built, and not stale either.
        let shared = |f: &String| !b.prune && svcc::gitops::is_shared_folder(f);
        let stale: Vec<String> = marked.into_iter().filter(|f| !built.contains(f) && !shared(f)).collect();
        let pruned = if b.prune { stale.clone() } else { Vec::new() };
        let existing = read_committed(dir, &[built.as_slice(), &pruned].concat())?;
        let artifacts = with_extras(artifacts, &existing, &BTreeSet::new(), &shown)?;
        let mut changes = svcc::diff::files(&artifacts, &existing);
        changes.extend(removed_in(&existing, &pruned));
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((changes, if b.prune { Vec::new() } else { stale }))
    });
    let (changes, stale) = match compared {
        Ok(c) => c,
        Err(problems) => {
            print_diagnostics(args, &dir_report(dir, problems), true);
            return ExitCode::from(EXIT_USAGE_OR_IO);
        }
    };
    print_diagnostics(args, &c.report, false);
    if !stale.is_empty() && args.environments.is_empty() {
        let some: Vec<String> = stale.iter().take(3).map(|f| format!("{}/{f}", shown.trim_end_matches('/'))).collect();
        err(&format!(
            "svcc: note: {} folder(s) svcc wrote are not built by these specs ({}{}); if their services or environments are gone, `--prune` removes them\n",
            stale.len(),
            some.join(", "),
            if stale.len() > 3 { ", …" } else { "" }
        ));
    }
    if changes.is_empty() {
        return ExitCode::from(EXIT_OK);
    }
    out(&check_report(&shown, &changes, b.verbose));
    ExitCode::from(EXIT_SPEC_ERRORS)
}

/// Every file of the `pruned` folders, as removed.
fn removed_in(existing: &BTreeMap<String, String>, pruned: &[String]) -> Vec<FileChange> {
    existing
        .iter()
        .filter(|(p, _)| pruned.iter().any(|f| p.starts_with(&format!("{f}/"))))
        .map(|(p, old)| FileChange { status: FileStatus::Removed, path: p.clone(), old: Some(old.clone()), new: None })
        .collect()
}

fn check_report(shown: &str, changes: &[FileChange], verbose: bool) -> String {
    let mut s = format!("{shown} is out of date: {} file(s) would change\n", changes.len());
    for ch in changes {
        s.push_str(&format!("  {:<8} {}/{}\n", ch.status.as_str(), shown.trim_end_matches('/'), ch.path));
    }
    if verbose {
        for ch in changes {
            let (old, new) = (ch.old.as_deref().unwrap_or(""), ch.new.as_deref().unwrap_or(""));
            let name = &ch.path;
            let d = similar::TextDiff::from_lines(old, new);
            s.push_str(
                &d.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string(),
            );
        }
    }
    s.push_str("run the same `svcc build` without `--check` to update it\n");
    s
}

/// Parse every YAML file of a tree into manifests (kustomization files included;
/// `diff::objects` skips what is not a Kubernetes object).
fn manifests(files: &BTreeMap<String, String>) -> Result<Vec<svcc::diff::Manifest>, String> {
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

fn missing(dir: &Path, at: &str) -> Vec<Diagnostic> {
    vec![
        Diagnostic::error(Code::ReadFailed, format!("`{}` does not exist{at}", dir.display()))
            .help("check the folder given to `-o`; before the first build, pass `--allow-missing` to compare with nothing (every object is then added)"),
    ]
}

/// Files of an output folder: path relative to it → text.
type Files = BTreeMap<String, String>;

/// The committed side of `svcc diff` (DIR, or DIR at `--ref`) and the
/// fresh side (the build, with the working tree's `extra/` files).
fn diff_sides(d: &DiffArgs, artifacts: Vec<Artifact>) -> Result<(Files, Files), Vec<Diagnostic>> {
    let dir = d.output.as_path();
    let built = svcc::diff::owned_folders(&artifacts);
    let at_ref = match &d.git_ref {
        Some(rev) => match AtRef::open(dir, rev)? {
            None if !d.allow_missing => return Err(missing(dir, &format!(" at `{rev}`"))),
            t => t,
        },
        None if !exists(dir) && !d.allow_missing => return Err(missing(dir, "")),
        None => None,
    };
    let marked = match (&at_ref, &d.git_ref) {
        _ if !d.prune => Vec::new(),
        (Some(t), _) => t.marked_folders(),
        (None, Some(_)) => Vec::new(),
        (None, None) => marked_folders(dir)?,
    };
    let pruned: Vec<String> = marked.into_iter().filter(|f| !built.contains(f)).collect();
    let folders = [built.as_slice(), &pruned].concat();
    let work = read_committed(dir, if d.git_ref.is_some() { &built } else { &folders })?;
    let old = match (&at_ref, &d.git_ref) {
        (Some(t), _) => t.read(&folders)?,
        (None, Some(_)) => BTreeMap::new(),
        (None, None) => work.clone(),
    };
    let shown = dir.display().to_string();
    let fresh = with_extras(artifacts, &work, &BTreeSet::new(), &shown)?;
    Ok((old, fresh.into_iter().map(|a| (a.path, a.contents)).collect()))
}

/// `svcc diff`: committed output (folder or git revision) against a fresh build.
pub(super) fn diff_command(d: &DiffArgs) -> ExitCode {
    let args = &d.common;
    let c = compile_args(args, true);
    if c.code != EXIT_OK {
        print_diagnostics(args, &c.report, true);
        return ExitCode::from(c.code);
    }
    let dir = d.output.as_path();
    let mut artifacts = c.artifacts();
    match shared_files(&c.deployed(), dir, d.prune) {
        Ok(files) => artifacts.extend(files),
        Err(errors) => {
            print_diagnostics(args, &dir_report(dir, errors), true);
            return ExitCode::from(EXIT_SPEC_ERRORS);
        }
    }
    let parsed = diff_sides(d, artifacts).and_then(|(old, fresh)| {
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
    let specs = super::inputs::collect_any(&f.files, &mut problems);
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
