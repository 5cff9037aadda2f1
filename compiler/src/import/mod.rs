//! `svcc import`: existing Kubernetes manifests into specs, with a
//! fidelity report (docs/import.md).
//!
//! ```text
//! YAML ─yaml→ documents ─group→ one workload's objects per environment
//!   ─blocks (one mapper per spec block)→ native nodes ─build→ objects
//!   ─diff→ `set` patches for the rest ─build→ objects ─settle→ ledger
//! ```
//!
//! Each mapper in `blocks/` mirrors the `decode/` module of its block. A
//! native node that svcc refuses, or a patch it refuses, is taken out and
//! its fields listed with svcc's diagnostic as the reason; the ledger
//! accounts for every input field, and the spec is built once more to
//! check that it rebuilds exactly what the report says.

pub mod blocks;
pub mod diff;
pub mod group;
pub mod kdl;
pub mod ledger;
pub mod render;
pub mod report;
pub mod service;
pub mod yaml;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

pub use report::{Report, ServiceReport};

/// One input file (or standard input), and its environment with `--env`.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub environment: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--harden`: svcc's identity selectors instead of the input's.
    pub harden: bool,
}

/// One spec written by import.
#[derive(Clone, Debug)]
pub struct Imported {
    pub service: String,
    /// The spec, formatted as `svcc fmt` writes it.
    pub text: String,
}

/// Everything one import produced. `services` is empty when there are
/// errors: import writes all or nothing.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Diagnostics; a span's file id is the index of its [`Source`].
    pub diagnostics: Vec<Diagnostic>,
    pub services: Vec<Imported>,
    pub report: Report,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// One input object.
#[derive(Clone, Debug)]
pub struct Object {
    pub environment: String,
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub value: Value,
    pub span: Span,
    /// `file:line` for the report.
    pub source: String,
}

/// The environment name of inputs given without `--env`.
pub const DEFAULT_ENV: &str = "default";

/// Import every source; see [`Outcome`].
pub fn import(sources: &[Source], opts: &Options) -> Outcome {
    let mut out = Outcome::default();
    let objects = read(sources, &mut out.diagnostics);
    if out.has_errors() {
        return out;
    }
    let multi = sources.iter().any(|s| s.environment.is_some());
    let grouped = group::group(objects, multi, &mut out.diagnostics);
    if out.has_errors() {
        return out;
    }
    let results = run_each(grouped.workloads, multi, opts);
    let mut reports = Vec::new();
    for r in results {
        match r {
            Ok((imported, rep)) => {
                out.services.push(imported);
                reports.push(rep);
            }
            Err(d) => out.diagnostics.push(*d),
        }
    }
    out.report = Report::new(reports, grouped.leftovers, opts.harden);
    out.diagnostics.sort_by_key(|d| d.primary.as_ref().map(|l| (l.span.file, l.span.start)));
    if out.has_errors() {
        out.services.clear();
    }
    out
}

/// What importing one workload gives.
type Outcome1 = Result<(Imported, ServiceReport), service::Failure>;

/// Import the workloads on every core (each is independent); each is
/// dropped by the worker that imported it, not afterwards on one core.
fn run_each(workloads: Vec<group::Workload>, multi: bool, opts: &Options) -> Vec<Outcome1> {
    let cells: Vec<std::sync::Mutex<Option<group::Workload>>> =
        workloads.into_iter().map(|w| std::sync::Mutex::new(Some(w))).collect();
    par_map(&cells, |cell| {
        let w = cell.lock().ok()?.take()?;
        Some(service::import_service(&w, multi, opts))
    })
    .into_iter()
    .map(|s| {
        s.flatten().unwrap_or_else(|| Err(Box::new(Diagnostic::error(Code::ImportFailed, "an import worker failed"))))
    })
    .collect()
}

/// `f` of every item, on every core, in the items' order; `None` where a
/// worker panicked. Workers take the next item as they finish one, so a
/// slow item does not hold up the others. (The CLI reads its inputs with it.)
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(items.len()).max(1);
    if workers == 1 {
        return items.iter().map(|x| Some(f(x))).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (f, next) = (&f, &next);
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(x) = items.get(i) else { break };
                        done.push((i, f(x)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    slots[i] = Some(r);
                }
            }
        }
    });
    slots
}

/// Parse every source into objects.
fn read(sources: &[Source], diags: &mut Vec<Diagnostic>) -> Vec<Object> {
    let mut budget = yaml::MAX_DOCS;
    let files: Vec<(u16, &str)> =
        sources.iter().enumerate().map(|(i, src)| (u16::try_from(i).unwrap_or(u16::MAX), src.text.as_str())).collect();
    let mut objects = Vec::new();
    for (src, docs) in sources.iter().zip(yaml::read_all(&files, &mut budget)) {
        let docs = match docs {
            Ok(d) => d,
            Err(ds) => {
                diags.extend(ds);
                continue;
            }
        };
        let env = src.environment.clone().unwrap_or_else(|| DEFAULT_ENV.to_string());
        for d in docs {
            if let Some(o) = object(src, &env, d, diags) {
                objects.push(o);
            }
        }
    }
    objects
}

fn object(src: &Source, env: &str, d: yaml::Document, diags: &mut Vec<Diagnostic>) -> Option<Object> {
    let text = |p: &str| diff::get(&d.value, p).and_then(Value::as_str).map(str::to_string);
    // A kustomization (as `svcc build -o` writes beside the objects) is
    // kustomize's input, not an object of the cluster.
    if text("/apiVersion").is_some_and(|a| a.starts_with("kustomize.config.k8s.io/")) {
        return None;
    }
    let missing = ["/apiVersion", "/kind", "/metadata/name"].into_iter().find(|p| text(p).is_none_or(|s| s.is_empty()));
    if !d.value.is_object() || missing.is_some() {
        let what = missing.map_or("not a mapping".to_string(), |p| format!("no `{}`", &p[1..].replace('/', ".")));
        let at = Span::in_file(d.span.file, d.span.start as usize, d.span.start as usize);
        diags.push(
            Diagnostic::error(Code::ImportNotAnObject, format!("a document is not a Kubernetes object: {what}"))
                .at(at, "this document")
                .help("import rendered manifests (`helm template`, `kubectl kustomize`), not values or kustomization files"),
        );
        return None;
    }
    let line = d.line;
    Some(Object {
        environment: env.to_string(),
        kind: text("/kind")?,
        api_version: text("/apiVersion")?,
        name: text("/metadata/name")?,
        value: d.value,
        span: d.span,
        source: format!("{}:{line}", src.name),
    })
}
