//! `svcc import`: reading manifests (files, folders, standard input, or
//! `helm template`), writing one spec folder per workload, printing the
//! fidelity report. The work itself is `svcc::import`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use svcc::diagnostic::render::{self, FileDiagnostics, Format};
use svcc::diagnostic::{Code, Diagnostic};
use svcc::import::{self, Source, yaml::MAX_FILE_BYTES};
use svcc::source::{SourceFile, Span};

use super::{ColorArg, EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE_OR_IO, err, human_style, out};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Manifests: YAML files, folders (their *.yaml, *.yml and *.json files, recursively), or - for standard input
    #[arg(value_name = "FILE|DIR|-")]
    files: Vec<PathBuf>,
    /// Write DIR/SERVICE/service.kdl for each workload (without it, the specs go to standard output)
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// The manifests of one environment (repeatable): one spec with `environment` blocks holding the differences
    #[arg(long = "env", value_name = "NAME=PATH")]
    environments: Vec<String>,
    /// Print the fidelity report as JSON on standard output (the specs then need -o)
    #[arg(long, value_enum)]
    report: Option<ReportArg>,
    /// Use svcc's identity selectors instead of the input's (applying then recreates the workloads)
    #[arg(long)]
    harden: bool,
    /// Render this chart with `helm template` (helm must be on PATH) and import the result
    #[arg(long, value_name = "CHART_DIR")]
    helm: Option<PathBuf>,
    /// Values files for --helm (repeatable)
    #[arg(short = 'f', long = "values", value_name = "FILE", requires = "helm")]
    values: Vec<PathBuf>,
    /// When to colour human output
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReportArg {
    Json,
}

/// A problem with the input or output (boxed: it is the rare path).
type Problem = Box<Diagnostic>;

fn io_error(code: Code, message: String, help: &str) -> Problem {
    Box::new(Diagnostic::error(code, message).help(help.to_string()))
}

/// Files of a folder, sorted, recursively; symbolic links are refused.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            diags.push(*io_error(Code::ReadFailed, format!("cannot read `{}`: {e}", dir.display()), "check the path"));
            return;
        }
    };
    entries.sort();
    for p in entries {
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            walk(&p, out, diags);
        } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            // A kustomization is not an object (render overlays with `kubectl kustomize`).
            && !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("kustomization.") || n.starts_with("Kustomization"))
        {
            out.push(p);
        }
    }
}

fn read_file(path: &Path) -> Result<String, Problem> {
    let name = path.display().to_string();
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| io_error(Code::ReadFailed, format!("cannot read `{name}`: {e}"), "check the path"))?;
    if meta.file_type().is_symlink() {
        return Err(io_error(
            Code::SymlinkRefused,
            format!("`{name}` is a symbolic link"),
            "name the file it points to",
        ));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(io_error(
            Code::ImportTooLarge,
            format!("`{name}` is larger than 64 MiB"),
            "import folders one at a time",
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| io_error(Code::ReadFailed, format!("cannot read `{name}`: {e}"), "check the path"))?;
    String::from_utf8(bytes)
        .map_err(|_| io_error(Code::ImportNotYaml, format!("`{name}` is not UTF-8 text"), "manifests are UTF-8 YAML"))
}

fn read_stdin() -> Result<String, Problem> {
    let mut buf = Vec::new();
    let limit = MAX_FILE_BYTES as u64 + 1;
    std::io::stdin()
        .lock()
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| io_error(Code::ReadFailed, format!("cannot read standard input: {e}"), "check the pipe"))?;
    if buf.len() > MAX_FILE_BYTES {
        return Err(io_error(Code::ImportTooLarge, "standard input is larger than 64 MiB".into(), "import in parts"));
    }
    String::from_utf8(buf).map_err(|_| {
        io_error(Code::ImportNotYaml, "standard input is not UTF-8 text".into(), "manifests are UTF-8 YAML")
    })
}

/// The sources of one path argument.
fn sources_of(path: &Path, env: Option<&str>, sources: &mut Vec<Source>, diags: &mut Vec<Diagnostic>) {
    let environment = env.map(str::to_string);
    if path == Path::new("-") {
        match read_stdin() {
            Ok(text) => sources.push(Source { name: "<stdin>".into(), text, environment }),
            Err(d) => diags.push(*d),
        }
        return;
    }
    let mut files = Vec::new();
    if path.is_dir() {
        walk(path, &mut files, diags);
    } else {
        files.push(path.to_path_buf());
    }
    for f in files {
        match read_file(&f) {
            Ok(text) => sources.push(Source { name: f.display().to_string(), text, environment: environment.clone() }),
            Err(d) => diags.push(*d),
        }
    }
}

/// `helm template CHART -f VALUES…`, when helm is on PATH.
fn helm(chart: &Path, values: &[PathBuf]) -> Result<Source, Problem> {
    let mut cmd = std::process::Command::new("helm");
    cmd.arg("template").arg(chart);
    for v in values {
        cmd.arg("-f").arg(v);
    }
    let hint = "install helm, or run `helm template CHART -f values.yaml | svcc import -`";
    let output = cmd.output().map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "`helm` is not on PATH".to_string()
        } else {
            format!("cannot run helm: {e}")
        };
        io_error(Code::ImportHelm, why, hint)
    })?;
    if !output.status.success() {
        let msg = String::from_utf8_lossy(&output.stderr);
        return Err(io_error(Code::ImportHelm, format!("`helm template` failed: {}", msg.trim()), hint));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| io_error(Code::ImportHelm, "helm printed no UTF-8 text".into(), hint))?;
    Ok(Source { name: format!("helm template {}", chart.display()), text, environment: None })
}

fn collect(a: &ImportArgs, diags: &mut Vec<Diagnostic>) -> Vec<Source> {
    // What to read, in order: (path, environment), or the diagnostic of a bad `--env`.
    let mut jobs: Vec<Result<(&Path, Option<&str>), Problem>> = Vec::new();
    jobs.extend(a.files.iter().map(|f| Ok((f.as_path(), None))));
    for e in &a.environments {
        jobs.push(match e.split_once('=') {
            Some((name, path)) if svcc::values::check_dns1123_label(name).is_ok() => Ok((Path::new(path), Some(name))),
            _ => Err(io_error(
                Code::InvalidArgument,
                format!("`--env {e}` is not NAME=PATH"),
                "write `--env staging=manifests/staging/` (NAME an RFC 1123 label)",
            )),
        });
    }
    // Thousands of small files (an `--env` pair per service) are read on
    // every core; sources and diagnostics keep the order of the arguments.
    let read = import::par_map(&jobs, |job| {
        let mut sources = Vec::new();
        let mut diags = Vec::new();
        match job {
            Ok((path, env)) => sources_of(path, *env, &mut sources, &mut diags),
            Err(d) => diags.push((**d).clone()),
        }
        (sources, diags)
    });
    let mut sources = Vec::new();
    for r in read {
        let (s, d) = r.unwrap_or_else(|| {
            (Vec::new(), vec![*io_error(Code::ReadFailed, "an input reader failed".into(), "run the import again")])
        });
        sources.extend(s);
        diags.extend(d);
    }
    if let Some(chart) = &a.helm {
        match helm(chart, &a.values) {
            Ok(s) => sources.push(s),
            Err(d) => diags.push(*d),
        }
    }
    if !a.environments.is_empty() && !a.files.is_empty() {
        diags.push(*io_error(
            Code::InvalidArgument,
            "give either files or --env NAME=PATH inputs, not both".into(),
            "name every input's environment with --env",
        ));
    }
    if sources.is_empty() && diags.is_empty() {
        diags.push(*io_error(
            Code::InvalidArgument,
            "nothing to import".into(),
            "name files, folders, `-` for standard input, --env NAME=PATH or --helm CHART",
        ));
    }
    sources
}

/// Diagnostics by input file, spans made relative to their file.
fn by_file(sources: &[Source], diags: Vec<Diagnostic>) -> Vec<FileDiagnostics> {
    let mut out: Vec<FileDiagnostics> = Vec::new();
    let mut loose = Vec::new();
    for mut d in diags {
        let Some(file) = d.primary.as_ref().map(|l| usize::from(l.span.file)) else {
            loose.push(d);
            continue;
        };
        let rebase = |s: &mut Span| s.file = 0;
        if let Some(l) = d.primary.as_mut() {
            rebase(&mut l.span);
        }
        d.secondary.retain(|l| usize::from(l.span.file) == file);
        for l in &mut d.secondary {
            rebase(&mut l.span);
        }
        let Some(src) = sources.get(file) else { continue };
        match out.iter_mut().find(|f| f.file.as_ref().is_some_and(|x| x.name == src.name)) {
            Some(f) => f.diagnostics.push(d),
            None => out.push(FileDiagnostics {
                file: Some(SourceFile::new(src.name.clone(), src.text.clone())),
                name: None,
                diagnostics: vec![d],
                imports: Vec::new(),
            }),
        }
    }
    if !loose.is_empty() {
        out.push(FileDiagnostics::without_source(None, loose));
    }
    out
}

pub fn import_command(a: &ImportArgs) -> ExitCode {
    let mut diags = Vec::new();
    let sources = collect(a, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        err(&render::render(Format::Human, &by_file(&sources, diags), human_style(a.color)));
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    let outcome = import::import(&sources, &import::Options { harden: a.harden });
    let failed = outcome.has_errors();
    let files = by_file(&sources, outcome.diagnostics.clone());
    if !files.is_empty() {
        err(&render::render(Format::Human, &files, human_style(a.color)));
    }
    if failed {
        return ExitCode::from(EXIT_SPEC_ERRORS);
    }
    if let Some(dir) = &a.output
        && let Err(d) = write_all(dir, &outcome.services)
    {
        err(&render::render(Format::Human, &[FileDiagnostics::without_source(None, vec![*d])], human_style(a.color)));
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    let ok = match a.report {
        Some(ReportArg::Json) => out(&outcome.report.json()),
        None => {
            if a.output.is_none() {
                let mut text = String::new();
                for s in &outcome.services {
                    text.push_str(&format!("// ---- {}/service.kdl\n{}", s.service, s.text));
                }
                if !out(&text) {
                    return ExitCode::from(EXIT_USAGE_OR_IO);
                }
            }
            err(&outcome.report.human());
            true
        }
    };
    ExitCode::from(if ok { EXIT_OK } else { EXIT_USAGE_OR_IO })
}

/// Write DIR/SERVICE/service.kdl for every service, or nothing: every
/// target is checked before the first write, symbolic links are refused,
/// and each file is written beside its place and renamed into it.
fn write_all(dir: &Path, services: &[import::Imported]) -> Result<(), Problem> {
    let refuse = |p: &Path, why: &str| {
        io_error(Code::WriteFailed, format!("cannot write `{}`: {why}", p.display()), "choose another -o folder")
    };
    let link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if link(dir) {
        return Err(refuse(dir, "a symbolic link"));
    }
    for s in services {
        // Service names are RFC 1123 labels (checked on import): one plain path segment.
        if svcc::values::check_dns1123_label(&s.service).is_err() {
            return Err(refuse(dir, "an unsafe service name"));
        }
        let folder = dir.join(&s.service);
        let file = folder.join("service.kdl");
        if link(&folder) || link(&file) || file.is_dir() {
            return Err(refuse(&file, "a symbolic link or a folder is in the way"));
        }
    }
    for s in services {
        let folder = dir.join(&s.service);
        std::fs::create_dir_all(&folder).map_err(|e| refuse(&folder, &e.to_string()))?;
        let tmp = folder.join(".service.kdl.svcc-tmp");
        std::fs::write(&tmp, &s.text).map_err(|e| refuse(&tmp, &e.to_string()))?;
        std::fs::rename(&tmp, folder.join("service.kdl")).map_err(|e| refuse(&folder, &e.to_string()))?;
    }
    Ok(())
}
