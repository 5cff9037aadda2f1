//! svcc: a declarative manifest compiler.
//!
//! [`pipeline::run`] takes one spec through every stage and returns
//! everything a command needs ([`Run`]); [`compile_with`] and
//! [`compile_units`] are the build's view of it (diagnostics and files).
//! The modules, in the order data flows through them:
//!
//! ```text
//! bytes ─text_of→ SourceFile ─syntax::parse→ KdlDocument ─decode→ model::Spec
//!       ─compose→ (presets and org defaults laid under it)
//!       ─check→ Vec<plan::Plan> ─lower→ objects ─harden, patch, harden→
//!       ─validate→ (same) ─emit→ Vec<emit::Artifact>   (+ ci: the pipeline files)
//! ```
//!
//! The library does no I/O, except [`repo`], the one module that reads
//! input files (for the CLI and the tests alike); the CLI writes folders.

// The runner, then the stages in the order data flows through them. Public
// modules are what the CLI, the tests and the fuzz targets use; the rest
// is internal.
pub mod pipeline;
pub mod syntax;
pub mod decode;
pub mod model;
pub mod compose;
pub(crate) mod settings;
pub(crate) mod check;
pub mod plan;
pub(crate) mod promql;
pub(crate) mod condition;
pub mod lower;
pub(crate) mod crd;
pub(crate) mod harden;
pub(crate) mod patch;
pub mod validate;
pub(crate) mod admission;
pub mod emit;
pub mod ci;
// After every service: the GitOps files that span services.
pub mod gitops;
// Shared by the stages.
pub mod diagnostic;
pub(crate) mod secrets;
pub mod source;
pub mod values;
// Beside the pipeline: reading files, and the GitOps tools.
pub mod repo;
pub mod diff;
pub mod format;
pub mod import;
pub mod provenance;
pub mod graph;
pub mod adapter;
// The language server (`svcc lsp`): runs the pipeline as the user types.
pub mod lsp;

use diagnostic::render::FileDiagnostics;
use diagnostic::{Code, Diagnostic};
use emit::Artifact;
use source::{SourceFile, Span};

pub use compose::{FileKind, LoadError, Loader, NoFiles, Request};
pub(crate) use pipeline::text_of;
pub use pipeline::{Input, Options, Role, Run, Session, Unit, run};

/// What a build keeps of a [`Run`]: the diagnostics and the files.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub file: SourceFile,
    /// A service, or (for `svcc check`) a preset or org defaults file.
    pub role: Role,
    pub diagnostics: Vec<Diagnostic>,
    /// Files read for this spec (presets, org defaults): spans with file id
    /// `k > 0` point into `imports[k - 1]`.
    pub imports: Vec<SourceFile>,
    /// The service name, when the file got that far.
    pub service: Option<(String, Span)>,
    /// Where the service goes: its output folder and its environments'
    /// namespaces, when the file got that far.
    pub placement: Option<Placement>,
    /// Generated files, in output order. Empty when there are errors.
    pub artifacts: Vec<Artifact>,
    /// What a GitOps engine deploys of it (`gitops`), for the files that
    /// span services ([`gitops::artifacts`]).
    pub deployed: Option<gitops::Deployed>,
    /// The service's place in the service graph (ports and declared calls
    /// per environment), when it compiled without errors.
    pub graph: Option<graph::Service>,
}

/// A service's output folder (`service NAME folder=…`, else the name) and
/// the namespace of each of its environments (`None`: kubectl's current
/// one), which together say whether two services of one build collide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub folder: String,
    /// Where `folder=` is written, for messages.
    pub folder_span: Option<Span>,
    pub namespaces: std::collections::BTreeSet<Option<String>>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

impl From<Run> for Compiled {
    fn from(r: Run) -> Compiled {
        let service = r.spec.as_ref().map(|s| (s.name.value.clone(), s.name.span));
        let deployed = gitops::Deployed::of(&r);
        let graph = match &service {
            Some((name, _)) if !r.has_errors() && !r.plans.is_empty() => Some(graph::Service::of(name, &r.plans)),
            _ => None,
        };
        let placement = r.spec.as_ref().map(|s| Placement {
            folder: s.folder().to_string(),
            folder_span: s.folder.as_ref().map(|f| f.span),
            namespaces: r.plans.iter().map(|p| p.namespace.clone()).collect(),
        });
        Compiled {
            graph,
            file: r.file,
            role: r.role,
            diagnostics: r.diagnostics,
            imports: r.imports,
            service,
            placement,
            artifacts: r.artifacts,
            deployed,
        }
    }
}

/// Compile one spec file through every stage, with standard-library
/// presets only (no org defaults, no preset files).
pub fn compile(input: &Input, opts: &Options) -> Compiled {
    compile_with(input, &[], &NoFiles, opts)
}

/// Compile one spec file: `defaults` are the org defaults files above it
/// (outermost first); `loader` reads the preset files it uses.
pub fn compile_with(input: &Input, defaults: &[Input], loader: &dyn Loader, opts: &Options) -> Compiled {
    Compiled::from(pipeline::run(input, defaults, loader, opts))
}

/// Compile many services on every core, results in input order. Services
/// are independent, so one service's errors never hide another's; two
/// files that define the same service are an error in the second.
pub fn compile_units(units: &[Unit], loader: &dyn Loader, opts: &Options) -> Vec<Compiled> {
    compile_units_each(units, loader, opts, &|_| {})
}

/// [`compile_units`], handing each result to `each` on the worker that
/// compiled it, as soon as it is done: `svcc build -o` writes a service's
/// files there and drops them, so memory does not grow with the number of
/// services. Conflicts between services, and calls between them that do
/// not fit (`graph::check`), are reported afterwards (an error: whatever
/// `each` did with that service's files must not be kept).
pub fn compile_units_each(
    units: &[Unit],
    loader: &dyn Loader,
    opts: &Options,
    each: &(dyn Fn(&mut Compiled) + Sync),
) -> Vec<Compiled> {
    compile_units_in(&Session::new(), units, loader, opts, each)
}

/// [`compile_units_each`] in `session`: every service of a build shares its
/// parsed presets and compiled templates.
pub fn compile_units_in(
    session: &Session,
    units: &[Unit],
    loader: &dyn Loader,
    opts: &Options,
    each: &(dyn Fn(&mut Compiled) + Sync),
) -> Vec<Compiled> {
    let one = |u: &Unit| {
        let mut c = Compiled::from(session.run(&u.input, &u.defaults, loader, opts));
        each(&mut c);
        c
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(units.len()).max(1);
    let mut results: Vec<Compiled> = if workers == 1 {
        units.iter().map(one).collect()
    } else {
        // Interleaved shares keep the work balanced when costly services cluster.
        let mut slots: Vec<Option<Compiled>> = vec![None; units.len()];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let one = &one;
                    s.spawn(move || {
                        units.iter().enumerate().skip(w).step_by(workers).map(|(i, u)| (i, one(u))).collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                // A worker only panics on a compiler bug; let it surface.
                let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                for (i, c) in done {
                    slots[i] = Some(c);
                }
            }
        });
        slots.into_iter().flatten().collect()
    };
    report_conflicts(&mut results);
    graph::check(&mut results, opts.whole_graph, opts.deny_warnings);
    results
}

/// Two services of one build that write one output folder, or that
/// share a name and a namespace (their objects would overwrite each
/// other), are an error in the second. One name in two namespaces is
/// fine once each has its own folder (`service NAME folder=…`).
fn report_conflicts(results: &mut [Compiled]) {
    let mut kept: Vec<usize> = Vec::new();
    for i in 0..results.len() {
        let (Some((name, span)), Some(place)) = (results[i].service.clone(), results[i].placement.clone()) else {
            continue;
        };
        let clash = kept.iter().find_map(|&j| {
            let (other, _) = results[j].service.as_ref()?;
            let theirs = results[j].placement.as_ref()?;
            conflict(&name, span, &place, other, theirs, &results[j].file.name)
        });
        match clash {
            Some(d) => {
                results[i].diagnostics.push(d);
                results[i].artifacts.clear();
                results[i].deployed = None;
            }
            None => kept.push(i),
        }
    }
}

/// SVC0311 for service `name` (at `span`, placed at `place`) against an
/// earlier service `other` of file `file`, or `None`.
fn conflict(
    name: &str,
    span: Span,
    place: &Placement,
    other: &str,
    theirs: &Placement,
    file: &str,
) -> Option<Diagnostic> {
    let shared_ns = place.namespaces.intersection(&theirs.namespaces).next();
    if name == other
        && let Some(ns) = shared_ns
    {
        let where_ = ns.as_ref().map_or("kubectl's current namespace".to_string(), |n| format!("namespace `{n}`"));
        return Some(
            Diagnostic::error(Code::ServiceConflict, format!("service `{name}` is also defined in {file}"))
                .at(span, format!("deployed to {where_} again here"))
                .help("one name in one namespace is one set of objects: rename one service, or deploy it to another namespace (`namespace \"…\"`)"),
        );
    }
    if place.folder != theirs.folder {
        return None;
    }
    let at = place.folder_span.unwrap_or(span);
    let d = if name == other {
        Diagnostic::error(Code::ServiceConflict, format!("service `{name}` is also defined in {file}"))
            .at(at, "written to the same output folder again here")
            .help(format!(
                "service names must be unique in a build, or, deployed to other namespaces, have their own output folder: `service {name} folder=\"{name}-…\"`"
            ))
    } else {
        Diagnostic::error(
            Code::ServiceConflict,
            format!("the output folder `{}` is also written by service `{other}` in {file}", place.folder),
        )
        .at(at, "the same output folder")
        .help("give each service its own folder: `folder=` names it, by default the service name")
    };
    Some(d)
}

/// Diagnostics of a set of results, in the form the renderers take.
pub fn file_diagnostics(results: &[Compiled]) -> Vec<FileDiagnostics> {
    results
        .iter()
        .filter(|r| !r.diagnostics.is_empty())
        .map(|r| FileDiagnostics {
            file: Some(r.file.clone()),
            name: None,
            diagnostics: r.diagnostics.clone(),
            imports: r.imports.clone(),
        })
        .collect()
}
