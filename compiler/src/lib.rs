//! svcc: a declarative manifest compiler.
//!
//! ```text
//! bytes ─text→ &str ─syntax::parse→ KdlDocument ─decode→ model::Spec
//!       ─check→ Vec<plan::Plan> ─lower→ Vec<lower::Object> ─validate→ (same)
//!       ─emit→ Vec<emit::Artifact>
//! ```
//!
//! The library does no I/O: the CLI reads files and writes folders. Every
//! stage reports into a [`Diagnostics`] sink and keeps going; later stages
//! run only when earlier ones found no errors.

pub mod check;
pub mod crd;
pub mod decode;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod format;
pub mod lower;
pub mod model;
pub mod plan;
pub mod promql;
pub mod provenance;
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
fn text_of(input: &Input, diags: &mut Diagnostics) -> SourceFile {
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

/// Compile one spec file through every stage.
pub fn compile(input: &Input, opts: &Options) -> Compiled {
    let mut diags = Diagnostics::new();
    let file = text_of(input, &mut diags);
    let mut service = None;
    let mut artifacts = Vec::new();
    if !diags.has_errors()
        && let Some(doc) = syntax::parse(&file.text, &mut diags)
        && let Some(spec) = decode::decode(&doc, &mut diags)
    {
        service = Some((spec.name.value.clone(), spec.name.span));
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
        let plans = check::check(&spec, opts, &mut diags);
        if !diags.has_errors() {
            for plan in &plans {
                let objects = lower::lower(plan);
                validate::validate(&objects, &mut diags);
                artifacts.extend(emit::artifacts(&plan.service, &plan.environment, &objects));
            }
        }
    }
    let mut diagnostics = diags.into_sorted();
    // Every span lands inside the text and on char boundaries, whatever
    // produced it.
    for d in &mut diagnostics {
        for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
            l.span = l.span.clamp_to(&file.text);
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        artifacts.clear();
    }
    Compiled { file, diagnostics, service, artifacts }
}

/// Compile several files. Files are independent, so one file's errors do
/// not hide another's; two files that define the same service are an error
/// in the second.
pub fn compile_all(inputs: &[Input], opts: &Options) -> Vec<Compiled> {
    let mut results: Vec<Compiled> = inputs.iter().map(|i| compile(i, opts)).collect();
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
    results
}

/// Diagnostics of a set of results, in the form the renderers take.
pub fn file_diagnostics(results: &[Compiled]) -> Vec<FileDiagnostics> {
    results
        .iter()
        .filter(|r| !r.diagnostics.is_empty())
        .map(|r| FileDiagnostics { file: Some(r.file.clone()), name: None, diagnostics: r.diagnostics.clone() })
        .collect()
}
