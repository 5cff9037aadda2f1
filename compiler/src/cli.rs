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
/// `svcc diff`: at least one change would break a rollout or an apply.
pub const EXIT_BREAKING: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "svcc",
    version,
    about = "Compile a KDL service spec into validated Kubernetes manifests",
    after_help = "Exit codes: 0 clean, 1 the spec has errors (or, with --check, output or formatting is stale), 2 usage or I/O problem, 3 `svcc diff` found a breaking change.\nDocs: docs/language.md, docs/gitops.md; `svcc explain CODE` explains a diagnostic."
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
    /// Rewrite specs in the canonical layout, keeping every comment
    Fmt(FmtArgs),
    /// Compare committed output (a folder, or that folder at a git ref) with a fresh build, object by object
    Diff(DiffArgs),
    /// Explain a diagnostic code (`svcc explain SVC0202`; without a code, list them), or where a
    /// generated value comes from (`svcc explain Deployment/api spec.replicas api.kdl --env production`)
    Explain(ExplainArgs),
    /// Print a shell completion script (e.g. `svcc completions bash > /etc/bash_completion.d/svcc`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from the command-line definition
    Man,
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
    /// Write nothing; exit 1 listing every file under DIR that a build would add, change or remove
    #[arg(long, requires = "output")]
    check: bool,
    /// With --check, also print a unified diff of each changed file
    #[arg(short, long, requires = "check")]
    verbose: bool,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// A diagnostic code (SVC0202 or unknown-node), or an object as KIND/NAME (Deployment/api)
    #[arg(value_name = "CODE|KIND/NAME")]
    code: Option<String>,
    /// With KIND/NAME: the field, as a JSON pointer (/spec/replicas) or a dotted path (spec.replicas)
    #[arg(value_name = "FIELD", requires = "file")]
    field: Option<String>,
    /// With KIND/NAME: the spec file that generates the object
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Only this environment (repeatable; default: every environment)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// The image tag, as given to `svcc build`
    #[arg(long, value_name = "TAG")]
    image_tag: Option<String>,
    /// Print the answer as JSON
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

#[derive(Args, Debug)]
struct FmtArgs {
    /// Spec files, or folders to search for `*.kdl` files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write nothing; exit 1 listing the files that are not formatted
    #[arg(long)]
    check: bool,
    /// When to colour human output
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Args, Debug)]
struct DiffArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The folder the committed output lives in (as given to `svcc build -o`)
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Compare with DIR as committed at this git revision instead of the working tree
    #[arg(long = "ref", value_name = "REV")]
    git_ref: Option<String>,
    /// DIR holds the output of exactly these specs: objects in folders that no spec builds any more count as removed
    #[arg(long)]
    prune: bool,
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
        Command::Build(b) if b.check => build_check(&b),
        Command::Build(b) => compile_command(&b.common, b.output.as_deref(), true),
        Command::Check(c) => compile_command(&c, None, false),
        Command::Diff(d) => diff_command(&d),
        Command::Fmt(f) => fmt_command(&f),
        Command::Explain(e) if e.field.is_some() => explain_value(&e),
        Command::Explain(e) => explain(e.code.as_deref()),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "svcc", &mut buf);
            ExitCode::from(if out(&String::from_utf8_lossy(&buf)) { EXIT_OK } else { EXIT_USAGE_OR_IO })
        }
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut buf) {
                Ok(()) if out(&String::from_utf8_lossy(&buf)) => ExitCode::from(EXIT_OK),
                _ => ExitCode::from(EXIT_USAGE_OR_IO),
            }
        }
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

/// `svcc explain KIND/NAME FIELD FILE`: where a generated value comes from.
fn explain_value(e: &ExplainArgs) -> ExitCode {
    let (Some(object), Some(field), Some(file)) = (&e.code, &e.field, &e.file) else {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    };
    let style = human_style(ColorArg::Auto);
    let bytes = match read_spec(file) {
        Ok(b) => b,
        Err(problem) => {
            err(&render::render(Format::Human, &[*problem], style));
            return ExitCode::from(EXIT_USAGE_OR_IO);
        }
    };
    let input = Input { name: file.display().to_string(), bytes };
    let opts = Options {
        image_tag: e.image_tag.clone(),
        require_tag: false,
        environments: e.environments.clone(),
        check_only: false,
    };
    match svcc::provenance::trace(&input, &opts, object, field) {
        Ok((src, answers)) => {
            let text = match e.format {
                FormatArg::Json => {
                    format!(
                        "{}\n",
                        serde_json::to_string_pretty(&svcc::provenance::to_json(&src, &answers)).unwrap_or_default()
                    )
                }
                _ => svcc::provenance::render(&src, &answers),
            };
            ExitCode::from(if out(&text) { EXIT_OK } else { EXIT_USAGE_OR_IO })
        }
        Err((src, diagnostics)) => {
            let spec_error = diagnostics.iter().any(|d| d.code != Code::InvalidArgument);
            let r = vec![FileDiagnostics { file: Some(src), name: None, diagnostics, imports: Vec::new() }];
            err(&render::render(Format::Human, &r, style));
            ExitCode::from(if spec_error { EXIT_SPEC_ERRORS } else { EXIT_USAGE_OR_IO })
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

/// Specs larger than this are refused without being read further: a
/// service spec is a few kilobytes, and the KDL parser reads roughly 40 KB/s
/// in a debug build (a 400 KB file took 10 s, 10 MB over 2 minutes), so a
/// stray huge file (or a device) must not stall a commit hook.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// Read a spec, at most [`MAX_SPEC_BYTES`] of it (so even an endless
/// stream stops). The error is a diagnostic ready to report.
fn read_spec(path: &Path) -> Result<Vec<u8>, Box<FileDiagnostics>> {
    use std::io::Read;
    let shown = path.display();
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        return Err(Box::new(io_problem(path, Code::ReadFailed, format!("cannot read `{shown}`: {e}"))));
    }
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        let d = Diagnostic::error(
            Code::ReadFailed,
            format!("`{shown}` is larger than {} MiB, too large for a service spec", MAX_SPEC_BYTES >> 20),
        )
        .help("a spec describes one service in a few kilobytes; check that this is the file you meant");
        return Err(Box::new(FileDiagnostics::without_source(Some(shown.to_string()), vec![d])));
    }
    Ok(bytes)
}

fn human_style(color: ColorArg) -> HumanStyle {
    HumanStyle {
        color: match color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
        },
        width: 100,
    }
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
    }
}

/// The outcome of reading and compiling the specs named on the command line.
struct Compilation {
    results: Vec<Compiled>,
    /// Every problem, ready to render.
    report: Vec<FileDiagnostics>,
    /// `EXIT_OK`, `EXIT_SPEC_ERRORS` or `EXIT_USAGE_OR_IO`.
    code: u8,
}

impl Compilation {
    fn artifacts(&self) -> Vec<Artifact> {
        self.results.iter().flat_map(|r| r.artifacts.iter().cloned()).collect()
    }
}

fn compile_args(args: &CommonArgs, require_tag: bool) -> Compilation {
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
        match read_spec(p) {
            Ok(bytes) => inputs.push(Unit {
                input: Input { name: p.display().to_string(), bytes },
                defaults: finder.for_spec(p, &mut io_problems),
            }),
            Err(problem) => io_problems.push(*problem),
        }
    }
    if paths.is_empty() && io_problems.is_empty() {
        let d = Diagnostic::error(Code::ReadFailed, "no `*.kdl` spec files found in the given folders");
        io_problems.push(FileDiagnostics::without_source(None, vec![d]));
    }
    // Only `svcc check` compiles without requiring a tag, and it writes nothing.
    let opts = Options {
        image_tag: args.image_tag.clone(),
        require_tag,
        environments: args.environments.clone(),
        check_only: !require_tag,
    };
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
    let code = if !io_problems.is_empty() {
        EXIT_USAGE_OR_IO
    } else if spec_errors {
        EXIT_SPEC_ERRORS
    } else {
        EXIT_OK
    };
    Compilation { results, report, code }
}

/// Render diagnostics: machine formats go to stdout when `stdout_free`,
/// everything else to stderr.
fn print_diagnostics(args: &CommonArgs, report: &[FileDiagnostics], stdout_free: bool) {
    let format = format_of(args.format);
    if report.is_empty() && !stdout_free {
        return;
    }
    let text = render::render(format, report, human_style(args.color));
    match format {
        Format::Json | Format::Github if stdout_free => {
            out(&text);
        }
        _ => err(&text),
    }
}

fn compile_command(args: &CommonArgs, output: Option<&Path>, build: bool) -> ExitCode {
    let Compilation { results, mut report, mut code } = compile_args(args, build);
    if code == EXIT_OK && build {
        let artifacts: Vec<Artifact> = results.into_iter().flat_map(|r| r.artifacts).collect();
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
        // The process ends next: freeing thousands of files' text one by one
        // would only delay the exit.
        std::mem::forget(artifacts);
    }
    print_diagnostics(args, &report, !(build && output.is_none() && code == EXIT_OK));
    ExitCode::from(code)
}

/// Every file below `dir/folder` for each owned folder, keyed by its path
/// relative to `dir` with `/` separators. Missing folders contribute nothing.
fn read_owned(dir: &Path, folders: &[String]) -> std::io::Result<std::collections::BTreeMap<String, String>> {
    fn walk_files(base: &Path, rel: &str, out: &mut std::collections::BTreeMap<String, String>) -> std::io::Result<()> {
        let here = base.join(rel);
        let entries = match std::fs::read_dir(&here) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = format!("{rel}/{name}");
            if e.file_type()?.is_dir() {
                walk_files(base, &path, out)?;
            } else {
                let bytes = std::fs::read(e.path())?;
                out.insert(path, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(())
    }
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        walk_files(dir, f, &mut out)?;
    }
    Ok(out)
}

/// The same files as [`read_owned`], as committed at a git revision.
fn read_owned_at_ref(
    dir: &Path,
    rev: &str,
    folders: &[String],
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if o.status.success() {
            Ok(o.stdout)
        } else {
            Err(format!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim()))
        }
    };
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        let listing = git(&["ls-tree", "-r", "--name-only", "-z", rev, "--", f])?;
        for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let path = String::from_utf8_lossy(path).into_owned();
            let bytes = git(&["show", &format!("{rev}:./{path}")])?;
            out.insert(path, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(out)
}

fn io_report(dir: &Path, code: Code, message: String) -> Vec<FileDiagnostics> {
    vec![io_problem(dir, code, message)]
}

/// `svcc build -o DIR --check`: render in memory, compare with DIR, write nothing.
fn build_check(b: &BuildArgs) -> ExitCode {
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
    let existing = match read_owned(dir, &svcc::diff::owned_folders(&artifacts)) {
        Ok(e) => e,
        Err(e) => {
            let r = io_report(dir, Code::ReadFailed, format!("cannot read `{}`: {e}", dir.display()));
            print_diagnostics(args, &r, true);
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
fn diff_command(d: &DiffArgs) -> ExitCode {
    let args = &d.common;
    let c = compile_args(args, true);
    if c.code != EXIT_OK {
        print_diagnostics(args, &c.report, true);
        return ExitCode::from(c.code);
    }
    let artifacts = c.artifacts();
    let dir = d.output.as_path();
    let mut folders = svcc::diff::owned_folders(&artifacts);
    if d.prune {
        // Every `<service>/<environment>` folder under DIR, even those no spec builds.
        for service in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            for env in std::fs::read_dir(service.path()).into_iter().flatten().flatten() {
                if env.path().is_dir() {
                    let f = format!("{}/{}", service.file_name().to_string_lossy(), env.file_name().to_string_lossy());
                    if !f.starts_with('.') && !folders.contains(&f) {
                        folders.push(f);
                    }
                }
            }
        }
    }
    let old = match &d.git_ref {
        Some(rev) => read_owned_at_ref(dir, rev, &folders),
        None => read_owned(dir, &folders).map_err(|e| format!("cannot read `{}`: {e}", dir.display())),
    };
    let fresh: std::collections::BTreeMap<String, String> =
        artifacts.iter().map(|a| (a.path.clone(), a.contents.clone())).collect();
    let parsed = old.and_then(|old| Ok((manifests(&old)?, manifests(&fresh)?)));
    let (old, new) = match parsed {
        Ok(p) => p,
        Err(e) => {
            print_diagnostics(args, &io_report(dir, Code::ReadFailed, e), true);
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
        FormatArg::Human | FormatArg::Github => {
            out(&report.to_text());
        }
    }
    ExitCode::from(if report.breaking_count() > 0 { EXIT_BREAKING } else { EXIT_OK })
}

/// `svcc fmt [--check]`: rewrite (or list) the specs that are not in the
/// canonical layout. A file with syntax errors is reported and left alone.
fn fmt_command(f: &FmtArgs) -> ExitCode {
    let mut problems: Vec<FileDiagnostics> = Vec::new();
    let paths = collect_inputs(&f.files, &mut problems);
    let mut unformatted = Vec::new();
    let mut syntax_errors = false;
    for p in &paths {
        let name = p.display().to_string();
        let text = match read_spec(p).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                problems.push(io_problem(p, Code::NotUtf8, format!("`{name}` is not UTF-8 text")));
                continue;
            }
            Err(problem) => {
                problems.push(*problem);
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
                && let Err(e) = std::fs::write(p, &formatted)
            {
                problems.push(io_problem(p, Code::WriteFailed, format!("cannot write `{name}`: {e}")));
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

/// The prefix of the staging folders [`write_output`] creates under `-o`.
const STAGING_PREFIX: &str = ".svcc-staging-";

/// Write artifacts under `dir`, replacing each `<service>/<environment>`
/// folder as a whole: everything is written into a staging folder first,
/// and only then is each folder swapped in with a rename. If anything fails
/// before the swap, the existing folders are untouched.
///
/// Builds into the same `dir` take turns (an exclusive lock on `dir`
/// itself), so concurrent builds cannot interleave their swaps; the last
/// one to finish wins, whole.
///
/// A `dir` that does not exist yet is written whole as a staging folder
/// beside it and renamed into place: one rename instead of a swap per
/// folder, which halves the system calls of a first build.
pub fn write_output(dir: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    // Nothing at all at that path (not even a dangling symlink, which a
    // rename would replace).
    if std::fs::symlink_metadata(dir).is_err() && write_fresh(dir, artifacts)? {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let lock = lock_folder(dir)?;
    if lock.is_some() {
        // No other build is writing: staging folders left here were
        // abandoned by a build that was killed.
        for e in std::fs::read_dir(dir)?.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    // Folders that already hold exactly these files are left as they are
    // (not even their modification times change): a rebuild after a change
    // to one service rewrites that service's folders only.
    let changed = changed_folders(dir, artifacts);
    if changed.is_empty() {
        return Ok(());
    }
    let staging = dir.join(format!("{STAGING_PREFIX}{}", staging_suffix()));
    let result = write_staged(dir, &staging, &changed);
    let _ = std::fs::remove_dir_all(&staging);
    drop(lock);
    result
}

/// An exclusive advisory lock on the folder itself, so no lock file is left
/// in the output; the system releases it when the handle is dropped or the
/// process dies. Where a folder cannot be opened or locked (not Unix-like),
/// builds go unlocked: `None`.
fn lock_folder(dir: &Path) -> std::io::Result<Option<std::fs::File>> {
    let Ok(handle) = std::fs::File::open(dir) else {
        return Ok(None);
    };
    match handle.lock() {
        Ok(()) => Ok(Some(handle)),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(None),
        Err(e) => Err(e),
    }
}

/// The artifacts of every owned folder whose files under `dir` differ from
/// the build's (added, removed or changed files). A folder that cannot be
/// read counts as changed.
fn changed_folders(dir: &Path, artifacts: &[Artifact]) -> Vec<Artifact> {
    use std::collections::BTreeMap;
    let mut wanted: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
    for a in artifacts {
        wanted.entry(svcc::diff::owning_folder(&a.path)).or_default().push(a);
    }
    let mut out = Vec::new();
    for (folder, files) in wanted {
        let same = read_owned(dir, &[folder.to_string()]).is_ok_and(|have| {
            have.len() == files.len() && files.iter().all(|a| have.get(&a.path) == Some(&a.contents))
        }) && files.iter().filter(|a| a.path.ends_with(".sh")).all(|a| is_executable(&dir.join(&a.path)));
        if !same {
            out.extend(files.into_iter().cloned());
        }
    }
    out
}

/// Whether a written script still has its executable bit (a folder whose
/// script lost it is rewritten like a changed one).
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.exists()
    }
}

fn staging_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// Create `dir` with every artifact: `Ok(true)` when done, `Ok(false)` when
/// another build created `dir` meanwhile (the caller then swaps folders in
/// as for any existing output).
fn write_fresh(dir: &Path, artifacts: &[Artifact]) -> std::io::Result<bool> {
    let Some(name) = dir.file_name() else { return Ok(false) };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = parent.join(format!("{STAGING_PREFIX}{}-{}", name.to_string_lossy(), staging_suffix()));
    match write_files(&staging, artifacts).and_then(|()| std::fs::rename(&staging, dir)) {
        Ok(()) => Ok(true),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            if dir.exists() { Ok(false) } else { Err(e) }
        }
    }
}

/// Write every artifact under `root`, creating folders as needed.
fn write_files(root: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    // Each distinct parent folder is created once.
    let mut parents: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for a in artifacts {
        let parent = a.path.rsplit_once('/').map_or("", |(f, _)| f);
        if parents.insert(parent) {
            std::fs::create_dir_all(root.join(parent))?;
        }
    }
    // Writing thousands of small files is syscall-bound: use both cores.
    let write_half = |part: &[Artifact]| -> std::io::Result<()> {
        for a in part {
            let path = root.join(&a.path);
            std::fs::write(&path, &a.contents)?;
            #[cfg(unix)]
            if a.path.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        Ok(())
    };
    let (first, second) = artifacts.split_at(artifacts.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| write_half(second));
        let mine = write_half(first);
        mine.and(other.join().unwrap_or_else(|_| Err(std::io::Error::other("a writer thread panicked"))))
    })
}

fn write_staged(dir: &Path, staging: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    write_files(staging, artifacts)?;
    // Whole `<service>/<environment>` and `<service>/pipeline` folders, even
    // when their files sit in subfolders (`.github/workflows/`).
    let folders = svcc::diff::owned_folders(artifacts);
    // Everything is written; now swap the folders in. If a rename fails
    // part-way, undo the swaps already made so the output is as it was.
    let old = staging.join(".old");
    std::fs::create_dir_all(&old)?;
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut placed: Vec<PathBuf> = Vec::new();
    let mut swap = || -> std::io::Result<()> {
        for (i, folder) in folders.iter().enumerate() {
            let target = dir.join(folder);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if target.exists() {
                let keep = old.join(i.to_string());
                std::fs::rename(&target, &keep)?;
                aside.push((target.clone(), keep));
            }
            std::fs::rename(staging.join(folder), &target)?;
            placed.push(target);
        }
        Ok(())
    };
    let result = swap();
    if result.is_err() {
        for p in placed.iter().rev() {
            let _ = std::fs::remove_dir_all(p);
        }
        for (target, keep) in aside.iter().rev() {
            let _ = std::fs::rename(keep, target);
        }
    }
    result
}
