//! The one pipeline runner: every command (`build`, `check`, `explain`,
//! `diff`, and later the language server) runs a spec through [`run`] and
//! reads what it needs from the [`Run`] it returns.
//!
//! ```text
//! bytes ─text_of→ SourceFile ─syntax::parse→ KdlDocument ─decode→ Spec
//!   ─compose→ Spec (org defaults and presets laid under it)
//!   ─check→ Vec<Plan> (one per environment) and the CI plan
//!   ─lower→ objects ─harden (before)→ ─patch→ ─harden (after)→ ─validate→ ─admission→
//!   ─emit→ artifacts (YAML text, pipeline files)
//! ```
//!
//! Every stage reports into one [`Diagnostics`] sink and keeps going;
//! a later stage runs only when the earlier ones found no errors.

use crate::ci;
use crate::compose::{self, Loader};
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::emit::{self, Artifact};
use crate::lower::{self, Object};
use crate::model::{PresetKind, Spec};
use crate::plan::{Plan, PlanCi};
use crate::source::{FileId, SourceFile, Span};
use crate::{admission, check, decode, harden, patch, syntax, validate, values};

mod fixes;

/// What the caller decides rather than the spec.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--image-tag`: overrides the tag of every environment.
    pub image_tag: Option<String>,
    /// A build needs a real tag; `svcc check` does not.
    pub require_tag: bool,
    /// `--env`: only these environments (empty = all).
    pub environments: Vec<String>,
    /// `svcc check`: run every stage but leave the YAML unwritten (no
    /// artifacts); validation still sees every object.
    pub check_only: bool,
    /// `--deny-warnings`: every warning is an error, so `check` fails
    /// exactly when a build with the same flag would.
    pub deny_warnings: bool,
    /// `--image-tag NAME=TAG` and `--image-tags FILE`: the tag of one
    /// service (by name), over `image_tag` and the spec's tags.
    pub service_tags: std::collections::BTreeMap<String, String>,
    /// `svcc check`: a preset or org defaults file is checked for what it
    /// is ([`Role`]) instead of being refused as a service without one.
    pub any_role: bool,
    /// The inputs are every service their calls may name (a folder was
    /// given): a call to a service not among them is an error (SVC0701).
    pub whole_graph: bool,
    /// `svcc import`'s first builds, whose objects only seed a diff: lower
    /// and patch, but leave the hardening audit, validation and admission
    /// to the build that counts (docs/import.md).
    pub objects_only: bool,
}

/// What a `.kdl` file of a repository is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `service NAME { … }`: compiled.
    Service,
    /// `preset NAME { … }`: laid under the services that `use` it.
    Preset,
    /// `_defaults.kdl`: laid under every service below its folder.
    Defaults,
}

impl Role {
    /// A file named `_defaults.kdl` is org defaults; a file whose first
    /// node is `preset` is a preset; anything else is read as a service
    /// (whose decoder explains what is wrong with it).
    pub fn of(name: &str, doc: &kdl::KdlDocument) -> Role {
        let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
        if file == crate::repo::DEFAULTS_FILE {
            Role::Defaults
        } else if doc.nodes().first().is_some_and(|n| n.name().value() == decode::PRESET.name) {
            Role::Preset
        } else {
            Role::Service
        }
    }
}

/// One spec file as read from disk.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One service to compile, with the org defaults files that apply to it
/// (outermost folder first).
#[derive(Clone, Debug)]
pub struct Unit {
    pub input: Input,
    pub defaults: Vec<Input>,
}

/// Everything one run produced for one spec file.
#[derive(Clone, Debug)]
pub struct Run {
    pub file: SourceFile,
    /// What the file is: always [`Role::Service`] unless
    /// [`Options::any_role`] let a preset or defaults file be checked.
    pub role: Role,
    /// Files read for this spec (org defaults, presets, templates): spans
    /// with file id `k > 0` point into `imports[k - 1]`.
    pub imports: Vec<SourceFile>,
    /// The service as composed (presets and org defaults laid under it),
    /// when the file got that far.
    pub spec: Option<Spec>,
    /// The plan of each selected environment, in order, when checking
    /// succeeded.
    pub plans: Vec<Plan>,
    /// The generated objects of `plans[i]`, after patches (validated when
    /// the run has no errors).
    pub objects: Vec<Vec<Object>>,
    /// The resolved `pipeline { … }`.
    pub ci: Option<PlanCi>,
    /// Sorted, deduplicated, every span inside its file.
    pub diagnostics: Vec<Diagnostic>,
    /// Generated files, in output order. Empty when there are errors.
    pub artifacts: Vec<Artifact>,
}

impl Run {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The text of the file a span points into.
    pub fn source(&self, span: Span) -> Option<&SourceFile> {
        match span.file {
            0 => Some(&self.file),
            k => self.imports.get(usize::from(k) - 1),
        }
    }
}

/// What the runs of one owner share, and nothing else: the parsed preset
/// and defaults files ([`compose::ParseCache`], bounded) and the compiled
/// embedded templates ([`ci::Templates`]). The library keeps no state of
/// its own; whoever runs the pipeline owns a session: the CLI one per
/// command (every service of a build shares it, on every core), the
/// language server one per workspace, a test one per run ([`run`]).
#[derive(Default)]
pub struct Session {
    pub(crate) parsed: compose::ParseCache,
    pub(crate) templates: ci::Templates,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// Run one spec file through every stage: `defaults` are the org
    /// defaults files above it (outermost first); `loader` reads the preset
    /// files and templates it uses.
    pub fn run(&self, input: &Input, defaults: &[Input], loader: &dyn Loader, opts: &Options) -> Run {
        run_in(self, input, defaults, loader, opts)
    }

    /// How many parsed preset and defaults texts the session keeps.
    pub fn parsed_files(&self) -> usize {
        self.parsed.len()
    }
}

/// [`Session::run`] in a session of its own: for one-off runs (tests, a
/// single `svcc explain`). Many runs should share a [`Session`].
pub fn run(input: &Input, defaults: &[Input], loader: &dyn Loader, opts: &Options) -> Run {
    Session::new().run(input, defaults, loader, opts)
}

fn run_in(session: &Session, input: &Input, defaults: &[Input], loader: &dyn Loader, opts: &Options) -> Run {
    let mut diags = Diagnostics::new();
    let file = text_of(input, &mut diags);
    let mut run = Run {
        file,
        role: Role::Service,
        imports: Vec::new(),
        spec: None,
        plans: Vec::new(),
        objects: Vec::new(),
        ci: None,
        diagnostics: Vec::new(),
        artifacts: Vec::new(),
    };
    let mut stdlib_uses = Vec::new();
    let doc = if diags.has_errors() { None } else { syntax::parse(&run.file.text, &mut diags) };
    let role = doc.as_ref().map_or(Role::Service, |d| Role::of(&input.name, d));
    if role == Role::Service || !opts.any_role {
        check_name(input, &mut diags);
    }
    match &doc {
        Some(_) if diags.has_errors() => {}
        Some(doc) if role != Role::Service && opts.any_role => {
            run.role = role;
            let kind = if role == Role::Preset { PresetKind::Preset } else { PresetKind::Defaults };
            if let Some(preset) = decode::decode_preset(doc, kind, &mut diags) {
                let p = &session.parsed;
                stdlib_uses = compose::check_alone(&preset, &run.file.name, loader, p, &mut diags, &mut run.imports);
            }
        }
        Some(doc) => {
            if let Some(spec) = decode::decode(doc, &mut diags) {
                let (spec, uses) = compose_and_plan(session, &mut run, spec, (defaults, loader), opts, &mut diags);
                stdlib_uses = uses;
                if !diags.has_errors() {
                    build_environments(&mut run, spec.folder(), opts, &mut diags);
                    build_ci(session, &mut run, &spec, loader, opts, &mut diags);
                }
                run.spec = Some(spec);
            }
        }
        None => {}
    }
    finish(&mut run, diags, opts, &stdlib_uses);
    if let Some(doc) = &doc {
        fixes::attach(doc, &run.file.text, &mut run.diagnostics);
    }
    run
}

/// The CLI refuses unsafe spec names before reading; a library caller gets
/// the same answer rather than a workflow built around the name.
fn check_name(input: &Input, diags: &mut Diagnostics) {
    if let Err(why) = values::check_spec_path(&input.name) {
        diags.push(
            Diagnostic::error(
                Code::UnsafeFileName,
                format!("`{}` is not a usable spec file name", input.name.escape_debug()),
            )
            .at(Span::new(0, 0), why)
            .help("svcc writes the spec's path into the workflow and deploy.sh; rename the file"),
        );
    }
}

/// Compose, then check: the plans of the selected environments and the CI
/// plan, when composition succeeded.
fn compose_and_plan(
    session: &Session,
    run: &mut Run,
    mut spec: Spec,
    (defaults, loader): (&[Input], &dyn Loader),
    opts: &Options,
    diags: &mut Diagnostics,
) -> (Spec, Vec<(FileId, Span)>) {
    // Presets are laid under a spec that decoded cleanly; when they fail,
    // checking the half-composed service would only add noise.
    let errors_before = diags.error_count();
    let mut stdlib_uses = Vec::new();
    if errors_before == 0 {
        let name = &run.file.name;
        stdlib_uses = compose::compose(&mut spec, name, defaults, loader, &session.parsed, diags, &mut run.imports);
    }
    let composed = diags.error_count() == errors_before;
    unknown_environments(&spec, opts, diags);
    if composed {
        // Files are read for a spec that decoded and composed cleanly only.
        if !diags.has_errors() {
            check::config::load_files(&mut spec, &run.file.name, loader, diags);
        }
        run.plans = check::check(&spec, opts, diags);
        run.ci = check::ci::resolve(&spec, diags);
    }
    (spec, stdlib_uses)
}

/// `--env NAME` that the spec does not have.
fn unknown_environments(spec: &Spec, opts: &Options, diags: &mut Diagnostics) {
    let known = check::environment_names(spec);
    for want in opts.environments.iter().filter(|w| !known.contains(w)) {
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        // From the command line or a plugin's environment, not the spec:
        // shown with control characters escaped.
        let shown = want.escape_debug();
        let mut d =
            Diagnostic::error(Code::UnknownEnvironment, format!("`{}` has no environment `{shown}`", spec.name.value))
                .at(spec.name.span, format!("environments: {}", names.join(", ")));
        if let Some(s) = did_you_mean(want, &names) {
            d = d.help(format!("did you mean `--env {s}`?"));
        }
        diags.push(d);
    }
}

/// Lower, harden, patch and validate every environment, and emit its files.
fn build_environments(run: &mut Run, folder: &str, opts: &Options, diags: &mut Diagnostics) {
    let mut exceptions = harden::Exceptions::default();
    for plan in &run.plans {
        let mut objects = lower::lower(plan);
        if opts.objects_only {
            patch::apply(&mut objects, &plan.patches, &plan.environment, diags);
        } else {
            patch_and_check(&mut objects, plan, &mut exceptions, diags);
        }
        if !opts.check_only {
            run.artifacts.extend(emit::artifacts(folder, &plan.environment, &objects));
        }
        run.objects.push(objects);
    }
    // An exception only one environment needs is still needed (and none
    // is looked at without the audit).
    if opts.environments.is_empty() && !opts.objects_only {
        exceptions.report_unused(diags);
    }
}

/// Patch one environment's objects, with the hardening audit before and
/// after, then validate them and admit them.
fn patch_and_check(objects: &mut [Object], plan: &Plan, exceptions: &mut harden::Exceptions, diags: &mut Diagnostics) {
    let audit = harden::Audit::before_patches(objects, plan, diags);
    patch::apply(objects, &plan.patches, &plan.environment, diags);
    exceptions.record(plan, &audit.after_patches(objects, plan, diags));
    let errors_before = diags.error_count();
    validate::validate(objects, diags);
    // What the schema allows but the cluster would not: only on objects
    // that fit their schema (anything else is reported already).
    if diags.error_count() == errors_before {
        admission::admit(objects, diags);
    }
}

/// A run made with [`Options::objects_only`] (and `check_only`) finished
/// as the same run without `objects_only`: the hardening audit,
/// validation and admission of the objects it lowered, instead of
/// parsing, checking and lowering the same text again (`svcc import`'s
/// build that counts, when it builds the text of its native build).
///
/// Only for a run without errors whose plans have no patches: then its
/// objects are what the full run lowers, and patching changes nothing.
/// `None` for any other run, and when these stages find an error: the
/// caller builds again for the full diagnostics. The warnings they add
/// come without fixes.
pub fn finish_objects_only(mut run: Run, opts: &Options) -> Option<Run> {
    let finishable = opts.check_only && !opts.objects_only && !opts.deny_warnings;
    let patched = run.plans.iter().any(|p| !p.patches.is_empty());
    if !finishable || patched || run.has_errors() || run.objects.len() != run.plans.len() {
        return None;
    }
    let mut diags = Diagnostics::new();
    let mut exceptions = harden::Exceptions::default();
    for (plan, objects) in run.plans.iter().zip(&mut run.objects) {
        patch_and_check(objects, plan, &mut exceptions, &mut diags);
    }
    if opts.environments.is_empty() {
        exceptions.report_unused(&mut diags);
    }
    if diags.has_errors() {
        return None;
    }
    diags.extend(std::mem::take(&mut run.diagnostics));
    finish(&mut run, diags, opts, &[]);
    Some(run)
}

/// The pipeline files span every environment: written by full builds only.
/// `check` renders only the user's templates, which can fail; the embedded
/// ones cannot for a checked spec.
fn build_ci(
    session: &Session,
    run: &mut Run,
    spec: &Spec,
    loader: &dyn Loader,
    opts: &Options,
    diags: &mut Diagnostics,
) {
    let image = spec.body.image.as_ref().and_then(|i| i.repository.as_ref()).map(|r| r.value.as_str());
    let (Some(p), Some(image), true) = (&run.ci, image, opts.environments.is_empty()) else {
        return;
    };
    let plans = &run.plans;
    let name = &spec.name.value;
    if !opts.check_only {
        run.artifacts.extend(ci::artifacts(&session.templates, (name, spec.folder()), &run.file.name, image, p, plans));
    }
    if p.templates.is_empty() {
        return;
    }
    let cx = ci::user_context(name, &run.file.name, image, p, plans);
    for (path, span, to) in &p.templates {
        let out = format!("{}/{}/{to}", spec.folder(), check::ci::PIPELINE_FOLDER);
        let u = ci::user::Use { path, span: *span, spec: &run.file.name };
        if let Some(text) = ci::user::render_file(&u, &cx, loader, diags, &mut run.imports) {
            run.artifacts.push(Artifact { path: out, contents: text });
        }
    }
}

/// Sort the diagnostics, show those inside standard-library presets at the
/// `use` that brought them in, clamp every span into its file, and drop the
/// artifacts of a run with errors.
fn finish(run: &mut Run, mut diags: Diagnostics, opts: &Options, stdlib_uses: &[(FileId, Span)]) {
    if opts.deny_warnings {
        diags.deny_warnings();
    }
    let mut diagnostics = diags.into_sorted();
    if !stdlib_uses.is_empty() {
        let mut relocated = Diagnostics::new();
        relocated.extend(diagnostics.into_iter().map(|mut d| {
            compose::relocate_stdlib(&mut d, stdlib_uses, &run.imports);
            d
        }));
        diagnostics = relocated.into_sorted();
    }
    for d in &mut diagnostics {
        for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
            l.span = match run.source(l.span) {
                Some(f) => l.span.clamp_to(&f.text),
                None => Span::in_file(0, 0, 0),
            };
        }
        // Standard-library presets are embedded: nothing there to edit.
        let embedded = |s: Span| s.file != 0 && stdlib_uses.iter().any(|(id, _)| *id == s.file);
        if let Some(fix) = &mut d.fix {
            if fix.edits.iter().any(|e| embedded(e.span) || run.source(e.span).is_none()) {
                d.fix = None;
            } else {
                fix.fit(|s| run.source(s).map(|f| f.text.clone()));
            }
        }
    }
    run.diagnostics = diagnostics;
    if run.has_errors() {
        run.artifacts.clear();
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
