//! svcc: a declarative manifest compiler.
//!
//! ```text
//! bytes ─text→ &str ─syntax::parse→ KdlDocument ─decode→ model::Spec
//!       ─compose→ (presets and org defaults laid under it)
//!       ─check→ Vec<plan::Plan> ─lower→ Vec<lower::Object> ─patch→ (same)
//!       ─validate→ (same) ─emit→ Vec<emit::Artifact>
//! ```
//!
//! The library does no I/O, except [`repo`], the one module that reads
//! input files (for the CLI and the tests alike); the CLI writes folders. Every
//! stage reports into a [`Diagnostics`] sink and keeps going; later stages
//! run only when earlier ones found no errors.

pub mod check;
pub mod ci;
pub mod compose;
pub mod crd;
pub mod decode;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod format;
pub mod harden;
pub mod lower;
pub mod model;
pub mod patch;
pub mod plan;
pub mod promql;
pub mod provenance;
pub mod repo;
pub mod secrets;
pub mod source;
pub mod syntax;
pub mod validate;
pub mod values;

use diagnostic::render::FileDiagnostics;
use diagnostic::suggest::did_you_mean;
use diagnostic::{Code, Diagnostic, Diagnostics};
use emit::Artifact;
use source::{SourceFile, Span};

pub use check::Options;
pub use compose::{FileKind, LoadError, Loader, NoFiles, Request};

/// One spec file as read from disk.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The result of compiling one spec file.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub file: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
    /// Files read for this spec (presets, org defaults): spans with file id
    /// `k > 0` point into `imports[k - 1]`.
    pub imports: Vec<SourceFile>,
    /// The service name, when the file got that far.
    pub service: Option<(String, Span)>,
    /// Generated files, in output order. Empty when there are errors.
    pub artifacts: Vec<Artifact>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Turn raw bytes into text: UTF-8 required, a leading byte-order mark dropped.
pub(crate) fn text_of(input: &Input, diags: &mut Diagnostics) -> SourceFile {
    let bytes = input.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&input.bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => SourceFile::new(input.name.clone(), s),
        Err(e) => {
            let at = e.valid_up_to();
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            // Offsets in the lossy text match up to the first bad byte.
            diags.push(
                Diagnostic::error(Code::NotUtf8, "the file is not UTF-8 text")
                    .at(Span::new(at, at + 1), format!("invalid UTF-8 at byte {at}"))
                    .help("save the spec as UTF-8; binary files cannot be specs"),
            );
            SourceFile::new(input.name.clone(), lossy)
        }
    }
}

/// Compile one spec file through every stage, with standard-library
/// presets only (no org defaults, no preset files).
pub fn compile(input: &Input, opts: &Options) -> Compiled {
    compile_with(input, &[], &NoFiles, opts)
}

/// One service to compile, with the org defaults files that apply to it
/// (outermost folder first).
#[derive(Clone, Debug)]
pub struct Unit {
    pub input: Input,
    pub defaults: Vec<Input>,
}

/// Compile one spec file: `defaults` are the org defaults files above it
/// (outermost first); `loader` reads the preset files it uses.
pub fn compile_with(input: &Input, defaults: &[Input], loader: &dyn Loader, opts: &Options) -> Compiled {
    let mut diags = Diagnostics::new();
    let mut imports: Vec<SourceFile> = Vec::new();
    let file = text_of(input, &mut diags);
    if let Err(why) = values::check_spec_path(&input.name) {
        // The CLI refuses such names before reading; a library caller gets
        // the same answer rather than a workflow built around the name.
        diags.push(
            Diagnostic::error(
                Code::UnsafeFileName,
                format!("`{}` is not a usable spec file name", input.name.escape_debug()),
            )
            .at(Span::new(0, 0), why)
            .help("svcc writes the spec's path into the workflow and deploy.sh; rename the file"),
        );
    }
    let mut service = None;
    let mut artifacts = Vec::new();
    if !diags.has_errors()
        && let Some(doc) = syntax::parse(&file.text, &mut diags)
        && let Some(mut spec) = decode::decode(&doc, &mut diags)
    {
        service = Some((spec.name.value.clone(), spec.name.span));
        // Presets are laid under a spec that decoded cleanly; when they fail,
        // checking the half-composed service would only add noise.
        let errors_before = diags.error_count();
        if errors_before == 0 {
            compose::compose(&mut spec, &file.name, defaults, loader, &mut diags, &mut imports);
        }
        let composed = diags.error_count() == errors_before;
        let known = check::environment_names(&spec);
        for want in &opts.environments {
            if !known.contains(want) {
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                let mut d = Diagnostic::error(
                    Code::UnknownEnvironment,
                    format!("`{}` has no environment `{want}`", spec.name.value),
                )
                .at(spec.name.span, format!("environments: {}", names.join(", ")));
                if let Some(s) = did_you_mean(want, &names) {
                    d = d.help(format!("did you mean `--env {s}`?"));
                }
                diags.push(d);
            }
        }
        let plans = if composed { check::check(&spec, opts, &mut diags) } else { Vec::new() };
        let pipeline = if composed { check::ci::resolve(&spec, &mut diags) } else { None };
        if !diags.has_errors() {
            let mut exceptions = harden::Exceptions::default();
            for plan in &plans {
                let mut objects = lower::lower(plan);
                let audit = harden::Audit::before_patches(&objects, plan, &mut diags);
                patch::apply(&mut objects, &plan.patches, &plan.environment, &mut diags);
                exceptions.record(plan, &audit.after_patches(&objects, plan, &mut diags));
                validate::validate(&objects, &mut diags);
                if !opts.check_only {
                    artifacts.extend(emit::artifacts(&plan.service, &plan.environment, &objects));
                }
            }
            // An exception only one environment needs is still needed.
            if opts.environments.is_empty() {
                exceptions.report_unused(&mut diags);
            }
            // The pipeline spans every environment: written by full builds
            // only. `check` renders only the user's templates, which can
            // fail; the embedded ones cannot for a checked spec.
            let image = spec.body.image.as_ref().and_then(|i| i.repository.as_ref()).map(|r| r.value.as_str());
            if let (Some(p), Some(image), true) = (&pipeline, image, opts.environments.is_empty()) {
                if !opts.check_only {
                    artifacts.extend(ci::artifacts(&spec.name.value, &file.name, image, p, &plans));
                }
                if !p.templates.is_empty() {
                    let cx = ci::user_context(&spec.name.value, &file.name, image, p, &plans);
                    for (path, span, to) in &p.templates {
                        let out = format!("{}/{}/{to}", spec.name.value, check::ci::PIPELINE_FOLDER);
                        let u = ci::user::Use { path, span: *span, spec: &file.name };
                        if let Some(text) = ci::user::render_file(&u, &cx, loader, &mut diags, &mut imports) {
                            artifacts.push(Artifact { path: out, contents: text });
                        }
                    }
                }
            }
        }
    }
    let mut diagnostics = diags.into_sorted();
    // Every span lands inside the text and on char boundaries, whatever
    // produced it.
    for d in &mut diagnostics {
        for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
            let text = match l.span.file {
                0 => Some(&file.text),
                k => imports.get(usize::from(k) - 1).map(|f| &f.text),
            };
            l.span = match text {
                Some(t) => l.span.clamp_to(t),
                None => Span::in_file(0, 0, 0),
            };
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        artifacts.clear();
    }
    Compiled { file, diagnostics, imports, service, artifacts }
}

/// Compile many services on every core, results in input order. Services
/// are independent, so one service's errors never hide another's; two
/// files that define the same service are an error in the second.
pub fn compile_units(units: &[Unit], loader: &dyn Loader, opts: &Options) -> Vec<Compiled> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(units.len()).max(1);
    let mut results: Vec<Compiled> = if workers == 1 {
        units.iter().map(|u| compile_with(&u.input, &u.defaults, loader, opts)).collect()
    } else {
        // Interleaved shares keep the work balanced when costly services cluster.
        let mut slots: Vec<Option<Compiled>> = vec![None; units.len()];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    s.spawn(move || {
                        units
                            .iter()
                            .enumerate()
                            .skip(w)
                            .step_by(workers)
                            .map(|(i, u)| (i, compile_with(&u.input, &u.defaults, loader, opts)))
                            .collect::<Vec<_>>()
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
    results
}

/// Compile several files. Files are independent, so one file's errors do
/// not hide another's; two files that define the same service are an error
/// in the second.
pub fn compile_all(inputs: &[Input], opts: &Options) -> Vec<Compiled> {
    let units: Vec<Unit> = inputs.iter().map(|i| Unit { input: i.clone(), defaults: Vec::new() }).collect();
    compile_units(&units, &NoFiles, opts)
}

fn report_conflicts(results: &mut [Compiled]) {
    for i in 0..results.len() {
        let Some((name, span)) = results[i].service.clone() else {
            continue;
        };
        if let Some(first) = results[..i].iter().find(|r| r.service.as_ref().is_some_and(|(n, _)| *n == name)) {
            let d = Diagnostic::error(
                Code::ServiceConflict,
                format!("service `{name}` is also defined in {}", first.file.name),
            )
            .at(span, "defined again here")
            .help("service names must be unique: their output folders and objects would collide");
            results[i].diagnostics.push(d);
            results[i].artifacts.clear();
        }
    }
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
