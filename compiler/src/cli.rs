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
use svcc::{Compiled, Input, Loader, Options, Unit};

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
    /// Print the JSON Schema svcc validates a kind with (e.g. `svcc schema Deployment`); without a kind, list them
    Schema {
        /// The kind, e.g. Deployment
        kind: Option<String>,
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
        Command::Schema { kind } => schema(kind.as_deref()),
    }
}

fn schema(kind: Option<&str>) -> ExitCode {
    use svcc::lower::Kind;
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let Some(kind) = kind else {
        out(&format!(
            "Kinds (`svcc schema KIND` prints one; the same files are in schemas/):\n  {}\n",
            names.join("\n  ")
        ));
        return ExitCode::from(EXIT_OK);
    };
    match Kind::ALL.iter().find(|k| k.as_str().eq_ignore_ascii_case(kind)) {
        Some(k) => {
            if out(&svcc::validate::schema_text(*k)) {
                ExitCode::from(EXIT_OK)
            } else {
                ExitCode::from(EXIT_USAGE_OR_IO)
            }
        }
        None => {
            let mut msg = format!("svcc: svcc generates no kind `{kind}`\n");
            if let Some(s) = did_you_mean(kind, &names) {
                msg.push_str(&format!("help: did you mean `{s}`?\n"));
            }
            msg.push_str(&format!("kinds: {}\n", names.join(", ")));
            err(&msg);
            ExitCode::from(EXIT_USAGE_OR_IO)
        }
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

/// Expand folders into the service specs below them: `*.kdl` files, sorted,
/// except files whose name starts with `_` (org defaults, `_defaults.kdl`)
/// and anything in a folder named `presets` or starting with `.`.
/// Symlinked folders are not followed, so a link loop cannot recurse forever.
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
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if meta.is_dir() {
            if name != "presets" && !name.starts_with('.') {
                walk(&p, files, problems);
            }
        } else if p.extension().is_some_and(|x| x == "kdl") && !name.starts_with('_') {
            files.push(p);
        }
    }
}

fn io_problem(path: &Path, code: Code, message: String) -> FileDiagnostics {
    FileDiagnostics::without_source(Some(path.display().to_string()), vec![Diagnostic::error(code, message)])
}

/// The name of an org defaults file (`docs/presets.md`).
pub const DEFAULTS_FILE: &str = "_defaults.kdl";

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads preset files relative to the file that uses them.
struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, from: &str, path: &str) -> Result<Input, String> {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let full = normalize(&base.join(path));
        match std::fs::read(&full) {
            Ok(bytes) => Ok(Input { name: full.display().to_string(), bytes }),
            Err(e) => Err(format!("cannot read `{}`: {e}", full.display())),
        }
    }
}

/// The org defaults files that apply to a spec: `_defaults.kdl` in its
/// folder and every folder above it, up to the repository root (the first
/// folder holding `.git`) or the file-system root; outermost first.
struct DefaultsFinder {
    cwd: PathBuf,
    cache: std::collections::BTreeMap<PathBuf, Option<Input>>,
}

impl DefaultsFinder {
    fn new() -> Self {
        DefaultsFinder { cwd: std::env::current_dir().unwrap_or_default(), cache: Default::default() }
    }

    fn for_spec(&mut self, spec: &Path, problems: &mut Vec<FileDiagnostics>) -> Vec<Input> {
        let mut found = Vec::new();
        let dir = spec.parent().unwrap_or(Path::new(""));
        let abs = normalize(&self.cwd.join(dir));
        for d in abs.ancestors() {
            if !self.cache.contains_key(d) {
                let f = d.join(DEFAULTS_FILE);
                let input = match std::fs::read(&f) {
                    Ok(bytes) => {
                        let shown = f.strip_prefix(&self.cwd).map_or(f.clone(), Path::to_path_buf);
                        Some(Input { name: shown.display().to_string(), bytes })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        problems.push(io_problem(&f, Code::ReadFailed, format!("cannot read `{}`: {e}", f.display())));
                        None
                    }
                };
                self.cache.insert(d.to_path_buf(), input);
            }
            if let Some(Some(i)) = self.cache.get(d) {
                found.push(i.clone());
            }
            if d.join(".git").exists() {
                break;
            }
        }
        found.reverse();
        found
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
        io_problems.push(FileDiagnostics::without_source(None, vec![d]));
    }
    let paths = collect_inputs(&args.files, &mut io_problems);
    let mut inputs = Vec::new();
    let mut finder = DefaultsFinder::new();
    for p in &paths {
        match std::fs::read(p) {
            Ok(bytes) => inputs.push(Unit {
                input: Input { name: p.display().to_string(), bytes },
                defaults: finder.for_spec(p, &mut io_problems),
            }),
            Err(e) => io_problems.push(io_problem(p, Code::ReadFailed, format!("cannot read `{}`: {e}", p.display()))),
        }
    }
    if paths.is_empty() && io_problems.is_empty() {
        let d = Diagnostic::error(Code::ReadFailed, "no `*.kdl` spec files found in the given folders");
        io_problems.push(FileDiagnostics::without_source(None, vec![d]));
    }
    let opts =
        Options { image_tag: args.image_tag.clone(), require_tag: build, environments: args.environments.clone() };
    let mut results: Vec<Compiled> =
        if io_problems.is_empty() { svcc::compile_units(&inputs, &FsLoader, &opts) } else { Vec::new() };
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
                    report.push(FileDiagnostics::without_source(Some(dir.display().to_string()), vec![d]));
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
