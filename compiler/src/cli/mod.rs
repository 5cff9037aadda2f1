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
use svcc::{Compiled, Options, Unit};

mod cmp;
mod gitops;
mod adapter;
mod graph;
mod import;
mod inputs;
mod man;
mod output;
mod roles;
mod tags;

use gitops::{build_check, diff_command, fmt_command};
use inputs::{collect_inputs, read_units};
use output::Writer;

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
    /// Turn existing Kubernetes manifests into specs, with a fidelity report (docs/import.md)
    Import(import::ImportArgs),
    /// Explain a diagnostic code (`svcc explain SVC0202`; without a code, list them), or where a
    /// generated value comes from (`svcc explain Deployment/api spec.replicas api.kdl --env production`)
    Explain(ExplainArgs),
    /// Print a shell completion script (e.g. `svcc completions bash > /etc/bash_completion.d/svcc`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): svcc's, or a subcommand's (`svcc man build`); `--out DIR` writes them all
    Man(ManArgs),
    /// Draw the service graph of specs: services, ports, calls, exposure, environments (DOT, Mermaid or SVG)
    Graph(GraphArgs),
    /// Print the prometheus-adapter rules that serve the Pods metrics the specs' HPAs ask for
    AdapterRules(adapter::AdapterArgs),
    /// Print the JSON Schema svcc validates a kind with (e.g. `svcc schema Deployment`); without a kind, list them
    Schema {
        /// The kind, e.g. Deployment
        kind: Option<String>,
    },
    /// Run the language server on stdin and stdout (diagnostics, completion, hover, quick fixes; docs/editors.md)
    Lsp {
        /// Accepted for editors that pass it: stdio is the only transport
        #[arg(long)]
        stdio: bool,
    },
    /// svcc as an Argo CD config management plugin: print its plugin.yaml, or generate in the repo server
    #[command(subcommand)]
    Cmp(CmpCommand),
}

#[derive(Subcommand, Debug)]
enum CmpCommand {
    /// Print the plugin definition (plugin.yaml, a ConfigManagementPlugin for a repo-server sidecar)
    Plugin,
    /// Print the YAML of the Application's environment: run by Argo CD in the Application's path, with
    /// ARGOCD_ENV_SVCC_ENVIRONMENT (and ARGOCD_ENV_SVCC_IMAGE_TAG, ARGOCD_ENV_SVCC_IMAGE_TAGS) set; writes nothing
    Generate,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Spec files, or folders to search for `*.kdl` files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only this environment (repeatable)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// The image tag to deploy: TAG for every service, NAME=TAG for one (repeatable; overrides tags in the specs)
    #[arg(long, value_name = "[NAME=]TAG")]
    image_tag: Vec<String>,
    /// A tags file: one `SERVICE TAG` line per service (over the specs' tags; under --image-tag NAME=TAG)
    #[arg(long, value_name = "FILE")]
    image_tags: Option<PathBuf>,
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
    /// DIR holds the output of exactly these specs: also remove the folders svcc owns that no spec builds any more
    #[arg(long, requires = "output", conflicts_with = "environments")]
    prune: bool,
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
struct GraphArgs {
    /// Spec files, or folders to search for `*.kdl` files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only this environment (repeatable)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// What to print: Graphviz DOT, Mermaid (renders in GitHub Markdown), or SVG (runs Graphviz's `dot`)
    #[arg(long, value_enum, default_value_t = GraphFormatArg::Dot)]
    format: GraphFormatArg,
    /// When to colour diagnostics
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormatArg {
    Dot,
    Mermaid,
    Svg,
}

#[derive(Args, Debug)]
struct ManArgs {
    /// The subcommand whose page to print (default: svcc's own page)
    #[arg(value_name = "SUBCOMMAND")]
    page: Option<String>,
    /// Write every page (svcc.1, svcc-build.1, …) into DIR instead, printing each path
    #[arg(long, value_name = "DIR", conflicts_with = "page")]
    out: Option<PathBuf>,
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
    #[arg(long, conflicts_with = "environments")]
    prune: bool,
    /// DIR may not exist yet (a first build): compare with nothing instead of failing
    #[arg(long)]
    allow_missing: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// Annotated snippets for a person (on standard error)
    Human,
    /// The versioned JSON report (docs/cli.md)
    Json,
    /// GitHub Actions workflow commands: annotations on the spec lines
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ColorArg {
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
        Command::Build(BuildArgs { common, output: Some(dir), prune, .. }) => build_into(&common, &dir, prune),
        Command::Build(b) => compile_command(&b.common, true),
        Command::Check(c) => compile_command(&c, false),
        Command::Diff(d) => diff_command(&d),
        Command::Fmt(f) => fmt_command(&f),
        Command::Import(i) => import::import_command(&i),
        Command::Explain(e) if e.field.is_some() => explain_value(&e),
        Command::Explain(e) => explain(e.code.as_deref()),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "svcc", &mut buf);
            ExitCode::from(if out(&String::from_utf8_lossy(&buf)) { EXIT_OK } else { EXIT_USAGE_OR_IO })
        }
        Command::Man(m) => man::man(m.page.as_deref(), m.out.as_deref()),
        Command::Schema { kind } => schema(kind.as_deref()),
        Command::Cmp(CmpCommand::Plugin) => cmp::plugin(),
        Command::Cmp(CmpCommand::Generate) => cmp::generate(),
        Command::Graph(g) => graph::graph_command(&g),
        Command::AdapterRules(a) => adapter::adapter_command(&a),
        Command::Lsp { .. } => lsp(),
    }
}

/// `svcc lsp`: serve one editor over stdio. Exit code 0 after `shutdown`
/// and `exit`, 1 when the client exits without `shutdown` (as the protocol
/// says) or the connection breaks.
fn lsp() -> ExitCode {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let served = svcc::lsp::serve(&connection);
    drop(connection);
    let joined = io_threads.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitCode::from(EXIT_OK),
        (Err(e), _) => {
            err(&format!("svcc lsp: {e}\n"));
            ExitCode::from(EXIT_SPEC_ERRORS)
        }
        (_, Err(e)) => {
            err(&format!("svcc lsp: {e}\n"));
            ExitCode::from(EXIT_SPEC_ERRORS)
        }
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

pub(crate) fn out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        // `svcc build | head` closes the pipe early: not an error.
        Err(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
    }
}

pub(crate) fn err(text: &str) {
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

/// `svcc explain KIND/NAME FIELD FILE`: where a generated value comes from,
/// read from the same run a build makes (org defaults, presets and patches
/// included).
fn explain_value(e: &ExplainArgs) -> ExitCode {
    let (Some(object), Some(field), Some(file)) = (&e.code, &e.field, &e.file) else {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    };
    let style = human_style(ColorArg::Auto);
    let mut problems = Vec::new();
    let specs = collect_inputs(std::slice::from_ref(file), &mut problems);
    let mut repo = inputs::repo(&mut problems);
    let units = match &mut repo {
        Some(r) if problems.is_empty() => read_units(r, &specs, &mut problems),
        _ => Vec::new(),
    };
    let (Some(repo), [unit]) = (&repo, units.as_slice()) else {
        if problems.is_empty() {
            let d = Diagnostic::error(Code::InvalidArgument, format!("`{}` is not one spec file", file.display()))
                .help("name the one `.kdl` file that generates the object");
            problems.push(FileDiagnostics::without_source(None, vec![d]));
        }
        err(&render::render(Format::Human, &problems, style));
        return ExitCode::from(EXIT_USAGE_OR_IO);
    };
    let opts = Options { image_tag: e.image_tag.clone(), environments: e.environments.clone(), ..Options::default() };
    let run = svcc::run(&unit.input, &unit.defaults, repo, &opts);
    let report = |diagnostics: Vec<Diagnostic>| {
        vec![FileDiagnostics { file: Some(run.file.clone()), name: None, diagnostics, imports: run.imports.clone() }]
    };
    if run.has_errors() {
        err(&render::render(Format::Human, &report(run.diagnostics.clone()), style));
        return ExitCode::from(EXIT_SPEC_ERRORS);
    }
    match svcc::provenance::trace(&run, object, field) {
        Ok(answers) => {
            let text = match e.format {
                FormatArg::Json => {
                    let json = svcc::provenance::to_json(&run, &answers);
                    format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default())
                }
                _ => svcc::provenance::render(&run, &answers),
            };
            ExitCode::from(if out(&text) { EXIT_OK } else { EXIT_USAGE_OR_IO })
        }
        Err(d) => {
            err(&render::render(Format::Human, &report(vec![*d]), style));
            ExitCode::from(EXIT_USAGE_OR_IO)
        }
    }
}

pub(crate) fn human_style(color: ColorArg) -> HumanStyle {
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
        FormatArg::Sarif => Format::Sarif,
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

    fn deployed(&self) -> Vec<svcc::gitops::Deployed> {
        self.results.iter().filter_map(|r| r.deployed.clone()).collect()
    }
}

/// The specs named on the command line, read (with their org defaults)
/// through the confined reader, and every problem found doing so.
struct ReadArgs {
    problems: Vec<FileDiagnostics>,
    repo: Option<svcc::repo::Repo>,
    units: Vec<Unit>,
    tags: tags::Tags,
    /// The tags file, when one was read: an input of the build.
    tags_file: Option<String>,
}

/// `any_role` (`svcc check`): folders stand for every `*.kdl` file in
/// them, presets and org defaults included.
fn read_args(args: &CommonArgs, any_role: bool) -> ReadArgs {
    let mut problems: Vec<FileDiagnostics> = Vec::new();
    let mut tags = tags::from_flags(&args.image_tag, &mut problems);
    let paths = if any_role {
        inputs::collect_any(&args.files, &mut problems)
    } else {
        collect_inputs(&args.files, &mut problems)
    };
    let mut repo = inputs::repo(&mut problems);
    let mut tags_file = None;
    let units = match &mut repo {
        Some(repo) => {
            if let Some(file) = &args.image_tags {
                tags_file = tags::read_file(repo, file, &mut tags, &mut problems);
            }
            read_units(repo, &paths, &mut problems)
        }
        None => Vec::new(),
    };
    if paths.is_empty() && problems.is_empty() {
        let d = Diagnostic::error(Code::ReadFailed, "no `*.kdl` spec files found in the given folders");
        problems.push(FileDiagnostics::without_source(None, vec![d]));
    }
    ReadArgs { problems, repo, units, tags, tags_file }
}

/// Only `svcc check` compiles without requiring a tag, writes nothing, and
/// checks presets and org defaults files for what they are.
fn options(args: &CommonArgs, tags: &tags::Tags, require_tag: bool) -> Options {
    Options {
        image_tag: tags.every.clone(),
        service_tags: tags.by_service.clone(),
        require_tag,
        environments: args.environments.clone(),
        check_only: !require_tag,
        deny_warnings: args.deny_warnings,
        any_role: !require_tag,
        whole_graph: whole_graph(&args.files),
        objects_only: false,
    }
}

/// A folder among the inputs: the build holds every service its calls may
/// name.
fn whole_graph(files: &[PathBuf]) -> bool {
    files.iter().any(|f| f.is_dir())
}

/// Compile what was read, handing each result to `each` as it is done.
/// For `svcc check`, the services that a preset or defaults file among the
/// inputs affects are checked too.
fn compile_read(mut read: ReadArgs, opts: &Options, each: &(dyn Fn(&mut Compiled) + Sync)) -> Compilation {
    let results: Vec<Compiled> = match &mut read.repo {
        Some(repo) if read.problems.is_empty() => {
            // One session for the command: the services share parsed presets.
            let session = svcc::Session::new();
            let mut results = svcc::compile_units_in(&session, &read.units, repo, opts, each);
            if opts.any_role {
                let (units, names) = roles::affected(repo, &read.units, &results);
                let mut more = svcc::compile_units_in(&session, &units, repo, opts, &|_| {});
                more.retain(|c| roles::uses_any(c, &names));
                for c in &mut more {
                    roles::explain_why(c, &names);
                    each(c);
                }
                results.extend(more);
            }
            results
        }
        _ => Vec::new(),
    };
    let spec_errors = results.iter().any(Compiled::has_errors);
    let code = if !read.problems.is_empty() {
        EXIT_USAGE_OR_IO
    } else if spec_errors {
        EXIT_SPEC_ERRORS
    } else {
        EXIT_OK
    };
    let mut report = read.problems;
    report.extend(svcc::file_diagnostics(&results));
    Compilation { results, report, code }
}

fn compile_args(args: &CommonArgs, require_tag: bool) -> Compilation {
    let read = read_args(args, !require_tag);
    let opts = options(args, &read.tags, require_tag);
    compile_read(read, &opts, &|_| {})
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
        Format::Json | Format::Github | Format::Sarif if stdout_free => {
            out(&text);
        }
        _ => err(&text),
    }
}

fn compile_command(args: &CommonArgs, build: bool) -> ExitCode {
    // `check` keeps only what it reports: results without diagnostics need
    // no text.
    let each = |c: &mut Compiled| {
        if !build && c.diagnostics.is_empty() {
            slim(c);
        }
    };
    let read = read_args(args, !build);
    let opts = options(args, &read.tags, build);
    let Compilation { results, report, mut code } = compile_read(read, &opts, &each);
    if code == EXIT_OK && build {
        let artifacts: Vec<Artifact> = results.into_iter().flat_map(|r| r.artifacts).collect();
        if !out(&emit::stream(&artifacts)) {
            code = EXIT_USAGE_OR_IO;
        }
        // The process ends next: freeing thousands of files' text one by one
        // would only delay the exit.
        std::mem::forget(artifacts);
    }
    print_diagnostics(args, &report, !(build && code == EXIT_OK));
    ExitCode::from(code)
}

/// Drop a result's source text (its name stays, for conflicts between
/// services): only results with diagnostics are rendered.
fn slim(c: &mut Compiled) {
    // The graph check may report on it once every service has compiled.
    if c.graph.as_ref().is_some_and(svcc::graph::Service::declares_edges) {
        return;
    }
    c.file = svcc::source::SourceFile::new(std::mem::take(&mut c.file.name), "");
    c.imports = Vec::new();
}

/// `svcc build -o DIR`: each service's files are staged as soon as it is
/// compiled and then dropped, so memory stays flat however many services
/// a folder holds; the staged folders are swapped in once all compiled
/// cleanly.
fn build_into(args: &CommonArgs, dir: &Path, prune: bool) -> ExitCode {
    let read = read_args(args, false);
    if !read.problems.is_empty() {
        print_diagnostics(args, &read.problems, true);
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    // Everything the build reads: an output folder holding any is refused.
    let mut inputs: Vec<PathBuf> = args.files.clone();
    inputs.extend(read.tags_file.iter().map(PathBuf::from));
    for u in &read.units {
        inputs.push(PathBuf::from(&u.input.name));
        inputs.extend(u.defaults.iter().map(|d| PathBuf::from(&d.name)));
    }
    let shown = Some(dir.display().to_string());
    let writer = match Writer::open(dir, &inputs) {
        Ok(w) => w,
        Err(errors) => {
            print_diagnostics(args, &[FileDiagnostics::without_source(shown, errors)], true);
            return ExitCode::from(EXIT_USAGE_OR_IO);
        }
    };
    let imports = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let deployed = std::sync::Mutex::new(Vec::new());
    let stage = |c: &mut Compiled| {
        if !c.has_errors() {
            writer.stage(&c.artifacts);
        }
        c.artifacts = Vec::new();
        if let Some(d) = c.deployed.take() {
            deployed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(d);
        }
        let mut seen = imports.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.extend(c.imports.iter().map(|i| i.name.clone()));
        drop(seen);
        // Only results with diagnostics are rendered: the rest need no text.
        if c.diagnostics.is_empty() {
            slim(c);
        }
    };
    let opts = options(args, &read.tags, true);
    let Compilation { mut report, mut code, .. } = compile_read(read, &opts, &stage);
    let deployed = deployed.into_inner().unwrap_or_default();
    if code == EXIT_OK {
        match shared_files(&deployed, dir, prune) {
            Ok(files) => writer.stage(&files),
            Err(errors) => {
                report.push(FileDiagnostics::without_source(shown.clone(), errors));
                code = EXIT_SPEC_ERRORS;
            }
        }
    }
    if code == EXIT_OK {
        inputs.extend(imports.into_inner().unwrap_or_default().into_iter().map(PathBuf::from));
        match writer.commit(&inputs, prune) {
            Ok(warnings) if warnings.is_empty() => {}
            Ok(warnings) => report.push(FileDiagnostics::without_source(shown, warnings)),
            Err(errors) => {
                report.push(FileDiagnostics::without_source(shown, errors));
                code = EXIT_USAGE_OR_IO;
            }
        }
    }
    print_diagnostics(args, &report, true);
    ExitCode::from(code)
}

/// The GitOps files that span services (`svcc::gitops`: environment roots,
/// Namespaces, the engine's objects) for the services `deployed`. Only a
/// build that owns the whole output folder (`prune`) writes them: one
/// built from some of the services would drop the others from them. Any
/// other build says so on standard error when a service asks for them.
fn shared_files(
    deployed: &[svcc::gitops::Deployed],
    dir: &Path,
    prune: bool,
) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    if deployed.is_empty() {
        return Ok(Vec::new());
    }
    if !prune {
        err(&format!(
            "svcc: note: the GitOps folders that span services (`{}*`, `{}`, `{}`) are written only by builds that own all of `{}`: add `--prune` (which needs every service and no `--env`)\n",
            svcc::gitops::ENV_ROOT_PREFIX,
            svcc::gitops::ARGOCD_FOLDER,
            svcc::gitops::FLUX_FOLDER,
            dir.display()
        ));
        return Ok(Vec::new());
    }
    svcc::gitops::artifacts(deployed, output::repo_path(dir).as_deref())
}
