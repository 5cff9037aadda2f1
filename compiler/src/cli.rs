//! The command line: argument parsing, file and terminal I/O, exit codes.
//! Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use svcc::diagnostic::render::{self, FileDiagnostics, Format, HumanStyle};
use svcc::diagnostic::suggest::did_you_mean;
use svcc::diagnostic::{Code, Diagnostic};
use svcc::emit::{self, Artifact};
use svcc::{Compiled, Input, Options};

/// Exit codes (documented in docs/cli.md).
pub const EXIT_OK: u8 = 0;
pub const EXIT_SPEC_ERRORS: u8 = 1;
pub const EXIT_USAGE_OR_IO: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "svcc",
    version,
    about = "Compile a KDL service spec into validated Kubernetes manifests",
    after_help = "Exit codes: 0 clean, 1 the spec has errors, 2 usage or I/O problem.\nDocs: docs/language.md, docs/cli.md; `svcc explain CODE` explains a diagnostic."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile specs and print the manifests (or write them with -o)
    Build(BuildArgs),
    /// Run every check without writing anything: the pre-commit and CI gate
    Check(CommonArgs),
    /// Explain a diagnostic code (e.g. `svcc explain SVC0202`); without a code, list them
    Explain {
        /// The code, e.g. SVC0202 or unknown-node
        code: Option<String>,
    },
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Spec files, or folders to search for `*.kdl` files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only this environment (repeatable)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// The image tag to deploy (overrides tags in the spec)
    #[arg(long, value_name = "TAG")]
    image_tag: Option<String>,
    /// How to print diagnostics
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
    /// When to colour human output
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Treat warnings as errors
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Write one folder per service and environment under DIR instead of printing
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE_OR_IO } else { EXIT_OK });
        }
    };
    match cli.command {
        Command::Build(b) => compile_command(&b.common, b.output.as_deref(), true),
        Command::Check(c) => compile_command(&c, None, false),
        Command::Explain { code } => explain(code.as_deref()),
    }
}

fn out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        // `svcc build | head` closes the pipe early: not an error.
        Err(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
    }
}

fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn explain(code: Option<&str>) -> ExitCode {
    let Some(code) = code else {
        let mut s = String::from("Diagnostic codes (`svcc explain CODE` for details):\n");
        for c in Code::ALL {
            let title = c.explanation().lines().next().unwrap_or("").trim_start_matches('#').trim();
            s.push_str(&format!(
                "  {}  {:<28} {}\n",
                c.as_str(),
                c.slug(),
                title.split_once(": ").map_or(title, |(_, t)| t)
            ));
        }
        out(&s);
        return ExitCode::from(EXIT_OK);
    };
    match Code::parse(code) {
        Some(c) => {
            out(c.explanation());
            ExitCode::from(EXIT_OK)
        }
        None => {
            let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            let mut msg = format!("svcc: unknown diagnostic code `{code}`\n");
            if let Some(s) = did_you_mean(&code.to_ascii_uppercase(), &names) {
                msg.push_str(&format!("help: did you mean `{s}`?\n"));
            }
            msg.push_str("run `svcc explain` to list every code\n");
            err(&msg);
            ExitCode::from(EXIT_USAGE_OR_IO)
        }
    }
}

/// Expand folders into the `*.kdl` files below them (sorted, symlinked
/// folders not followed, so a link loop cannot recurse forever).
fn collect_inputs(paths: &[PathBuf], problems: &mut Vec<FileDiagnostics>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, problems),
            Ok(_) => files.push(p.clone()),
            Err(e) => problems.push(io_problem(p, Code::ReadFailed, format!("cannot read `{}`: {e}", p.display()))),
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<FileDiagnostics>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(io_problem(dir, Code::ReadFailed, format!("cannot read folder `{}`: {e}", dir.display())));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, files, problems);
        } else if p.extension().is_some_and(|x| x == "kdl") {
            files.push(p);
        }
    }
}

fn io_problem(path: &Path, code: Code, message: String) -> FileDiagnostics {
    FileDiagnostics {
        file: None,
        name: Some(path.display().to_string()),
        diagnostics: vec![Diagnostic::error(code, message)],
    }
}

fn compile_command(args: &CommonArgs, output: Option<&Path>, build: bool) -> ExitCode {
    let style = HumanStyle {
        color: match args.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
        },
        width: 100,
    };
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
    };
    let mut io_problems: Vec<FileDiagnostics> = Vec::new();
    if let Some(tag) = &args.image_tag
        && let Err(why) = svcc::values::check_image_tag(tag)
    {
        let d =
            Diagnostic::error(Code::InvalidArgument, format!("`--image-tag {tag}` is not a valid image tag: {why}"));
        io_problems.push(FileDiagnostics { file: None, name: None, diagnostics: vec![d] });
    }
    let paths = collect_inputs(&args.files, &mut io_problems);
    let mut inputs = Vec::new();
    for p in &paths {
        match std::fs::read(p) {
            Ok(bytes) => inputs.push(Input { name: p.display().to_string(), bytes }),
            Err(e) => io_problems.push(io_problem(p, Code::ReadFailed, format!("cannot read `{}`: {e}", p.display()))),
        }
    }
    if paths.is_empty() && io_problems.is_empty() {
        let d = Diagnostic::error(Code::ReadFailed, "no `*.kdl` spec files found in the given folders");
        io_problems.push(FileDiagnostics { file: None, name: None, diagnostics: vec![d] });
    }
    let opts =
        Options { image_tag: args.image_tag.clone(), require_tag: build, environments: args.environments.clone() };
    let mut results: Vec<Compiled> =
        if io_problems.is_empty() { svcc::compile_all(&inputs, &opts) } else { Vec::new() };
    if args.deny_warnings {
        for r in &mut results {
            for d in &mut r.diagnostics {
                d.severity = svcc::diagnostic::Severity::Error;
            }
            if r.has_errors() {
                r.artifacts.clear();
            }
        }
    }
    let spec_errors = results.iter().any(Compiled::has_errors);
    let mut report = io_problems.clone();
    report.extend(svcc::file_diagnostics(&results));

    let mut code = if !io_problems.is_empty() {
        EXIT_USAGE_OR_IO
    } else if spec_errors {
        EXIT_SPEC_ERRORS
    } else {
        EXIT_OK
    };

    if code == EXIT_OK && build {
        let artifacts: Vec<Artifact> = results.iter().flat_map(|r| r.artifacts.iter().cloned()).collect();
        match output {
            Some(dir) => {
                if let Err(e) = write_output(dir, &artifacts) {
                    let d = Diagnostic::error(Code::WriteFailed, format!("cannot write to `{}`: {e}", dir.display()))
                        .help("nothing was changed in the output folder");
                    report.push(FileDiagnostics {
                        file: None,
                        name: Some(dir.display().to_string()),
                        diagnostics: vec![d],
                    });
                    code = EXIT_USAGE_OR_IO;
                }
            }
            None => {
                if !out(&emit::stream(&artifacts)) {
                    code = EXIT_USAGE_OR_IO;
                }
            }
        }
    }
    let text = render::render(format, &report, style);
    match format {
        // Machine formats go to stdout when nothing else does.
        Format::Json | Format::Github if !(build && output.is_none() && code == EXIT_OK) => {
            out(&text);
        }
        _ => err(&text),
    }
    ExitCode::from(code)
}

/// Write artifacts under `dir`, replacing each `<service>/<environment>`
/// folder as a whole: everything is written into a staging folder first,
/// and only then is each folder swapped in with a rename. If anything fails
/// before the swap, the existing folders are untouched.
pub fn write_output(dir: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let staging = dir.join(format!(".svcc-staging-{}-{nanos}", std::process::id()));
    let result = write_staged(dir, &staging, artifacts);
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn write_staged(dir: &Path, staging: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    let mut folders: Vec<String> = Vec::new();
    for a in artifacts {
        let path = staging.join(&a.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &a.contents)?;
        let folder = a.path.rsplit_once('/').map_or(String::new(), |(f, _)| f.to_string());
        if !folders.contains(&folder) {
            folders.push(folder);
        }
    }
    let old = staging.join(".old");
    std::fs::create_dir_all(&old)?;
    for (i, folder) in folders.iter().enumerate() {
        let target = dir.join(folder);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if target.exists() {
            std::fs::rename(&target, old.join(i.to_string()))?;
        }
        std::fs::rename(staging.join(folder), &target)?;
    }
    Ok(())
}
