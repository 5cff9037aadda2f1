//! Composition: presets, org defaults, and their precedence.
//!
//! A service is the top of a stack of layers, each a [`Body`] merged over
//! the ones below with the one layer merge ([`crate::check::merge::layer`]):
//!
//! ```text
//! svcc's built-in defaults < org defaults (outermost folder first)
//!   < presets the service uses < the service < an environment
//! ```
//!
//! Presets come from the standard library (embedded, `stdlib/presets/`) or
//! from files (`use "./presets/api.kdl"`); a preset may use other presets,
//! which sit below it. Presets used together are combined as one layer and
//! must agree (a setting both give differently is a conflict unless the
//! using file sets it itself). The library does no I/O: files come in
//! through a [`Loader`] the caller provides, and org defaults files as
//! [`Input`]s.

use std::collections::BTreeMap;

use crate::check::merge::{self, Merger, Mode};
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Preset, PresetKind, Spec};
use crate::source::{FileId, SourceFile, Span, Spanned, in_file};
use crate::{Input, decode, syntax};

/// What a file is read for: the rules differ (a preset must end in `.kdl`)
/// and so do the diagnostic codes of plain read failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `use "./presets/x.kdl"`
    Preset,
    /// `pipeline { template "./ci/x.hbs" … }`
    Template,
    /// `config-map NAME { file "config/app.yaml" }`
    Config,
}

/// A request for the file that `path` names.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The name of the spec being compiled: its repository root bounds
    /// every file read for it.
    pub spec: &'a str,
    /// The name of the file that holds the `use` or `template`.
    pub from: &'a str,
    /// The path as written.
    pub path: &'a str,
    pub kind: FileKind,
}

/// Why a loader cannot give a file: reported at the `use` or `template`.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub code: Code,
    /// Says what is wrong, next to the path.
    pub label: String,
    pub help: String,
}

/// Reads the files that `use "./…"` and `template` name. Implemented over
/// the file system by [`crate::repo::Repo`] (the CLI and the tests) and by
/// tests from memory.
pub trait Loader: Sync {
    /// The canonical name of the file `req` names: equal names are one file
    /// (read once; import cycles), and the name is what messages show.
    /// Nothing is read yet.
    fn locate(&self, req: &Request<'_>) -> Result<String, LoadError>;
    /// The bytes of the file that [`Loader::locate`] named `name`.
    fn read(&self, req: &Request<'_>, name: &str) -> Result<Vec<u8>, LoadError>;
}

/// A loader that has no files: only standard-library presets resolve.
pub struct NoFiles;

impl Loader for NoFiles {
    fn locate(&self, req: &Request<'_>) -> Result<String, LoadError> {
        Err(LoadError {
            code: match req.kind {
                FileKind::Preset => Code::PresetFile,
                FileKind::Template => Code::TemplateError,
                FileKind::Config => Code::ConfigFile,
            },
            label: format!("no files can be read here, so `{}` cannot be used", req.path),
            help: "paths are relative to the file that names them".into(),
        })
    }

    fn read(&self, req: &Request<'_>, _name: &str) -> Result<Vec<u8>, LoadError> {
        self.locate(req).map(|_| Vec::new())
    }
}

/// At most this many distinct preset files per service: real repositories
/// use a handful, and each one costs a read and a decode.
pub const MAX_PRESET_FILES: usize = 64;

/// At most this many files deep, from a service or defaults file through
/// the presets it uses (real ones are two or three deep).
pub const MAX_USE_DEPTH: usize = 8;

/// The standard library's presets: name and KDL text.
pub const STDLIB: &[(&str, &str)] = &[
    ("node-http-api", include_str!("../../stdlib/presets/node-http-api.kdl")),
    ("worker", include_str!("../../stdlib/presets/worker.kdl")),
    ("internal-grpc", include_str!("../../stdlib/presets/internal-grpc.kdl")),
];

/// Is `target` (what `use` names) a file rather than a standard-library preset?
pub fn is_file(target: &str) -> bool {
    target.starts_with("./") || target.starts_with("../") || target.starts_with('/') || target.ends_with(".kdl")
}

struct Ctx<'a> {
    loader: &'a dyn Loader,
    parsed: &'a ParseCache,
    diags: &'a mut Diagnostics,
    imports: &'a mut Vec<SourceFile>,
    /// The spec being compiled (its name bounds what the loader reads).
    spec: &'a str,
    /// Each preset file read, by canonical name, as decoded: read and
    /// decoded once per compilation.
    loaded: BTreeMap<String, Option<Preset>>,
    /// Each preset's effective body, by canonical name: a preset used by
    /// many others is expanded once, so diamonds of `use` cost linear time.
    expanded: BTreeMap<String, Option<Body>>,
    /// The chain of files being expanded, for import cycles.
    stack: Vec<(String, Span)>,
    /// Each standard-library preset read (its file id) and the `use` that
    /// brought it in: diagnostics are shown there, not in the embedded file.
    stdlib_uses: Vec<(FileId, Span)>,
}

/// Standard-library presets are embedded in svcc, so a diagnostic inside
/// one is shown at the `use` that brought it in (following `use`s between
/// standard-library presets up to the user's file). `uses` is what
/// [`compose`] returned.
pub fn relocate_stdlib(d: &mut Diagnostic, uses: &[(FileId, Span)], imports: &[SourceFile]) {
    let use_of = |file: FileId| uses.iter().find(|(id, _)| *id == file).map(|(_, at)| *at);
    for l in d.primary.iter_mut() {
        let Some(mut at) = use_of(l.span.file) else { continue };
        let preset = imports.get(usize::from(l.span.file) - 1).map(|f| f.name.clone()).unwrap_or_default();
        // A standard-library preset used by another one.
        for _ in 0..MAX_USE_DEPTH {
            match use_of(at.file) {
                Some(outer) => at = outer,
                None => break,
            }
        }
        l.span = at;
        d.notes.push(format!(
            "this comes from `{preset}`, a standard-library preset embedded in svcc: set the value in this file to override it"
        ));
    }
}

/// Lay `spec`'s presets and org `defaults` (outermost first) under it:
/// `spec.body` becomes the merged service body. Files read are appended to
/// `imports` (span file ids `1..`). Returns the standard-library presets
/// read, for [`relocate_stdlib`].
pub fn compose(
    spec: &mut Spec,
    main_name: &str,
    defaults: &[Input],
    loader: &dyn Loader,
    parsed: &ParseCache,
    diags: &mut Diagnostics,
    imports: &mut Vec<SourceFile>,
) -> Vec<(FileId, Span)> {
    if defaults.is_empty() && spec.uses.is_empty() {
        return Vec::new();
    }
    let mut cx = Ctx::new(loader, parsed, diags, imports, main_name, spec.node);
    let mut base = Body::default();
    for d in defaults {
        let Some((id, preset)) = cx.read(d, PresetKind::Defaults) else {
            continue;
        };
        cx.stack.push((d.name.clone(), Span::in_file(id, 0, 0)));
        let body = cx.expand(&preset, &d.name);
        cx.stack.pop();
        let what = format!("the defaults in {}", d.name);
        base = merge::layer(&base, &body, &mut Merger::new(cx.diags, what, preset.node, Mode::Override));
    }
    let body = cx.stack_layers(&spec.uses, main_name, base, &spec.body, "the service");
    spec.body = body;
    cx.stdlib_uses
}

/// Check a preset or org defaults file on its own (`svcc check
/// presets/api.kdl`): resolve its `use`s (the files it names are read
/// through `loader`, relative to `name`) and lay them under it, which
/// finds cycles, presets that disagree and refinements of nothing.
pub fn check_alone(
    preset: &Preset,
    name: &str,
    loader: &dyn Loader,
    parsed: &ParseCache,
    diags: &mut Diagnostics,
    imports: &mut Vec<SourceFile>,
) -> Vec<(FileId, Span)> {
    let mut cx = Ctx::new(loader, parsed, diags, imports, name, preset.node);
    cx.expand(preset, name);
    cx.stdlib_uses
}

/// Preset and defaults files, parsed once for each distinct text: a
/// repository of a thousand services shares a handful of them. Spans in a
/// `KdlDocument` are plain offsets, so one parse serves every service;
/// decoding (which assigns the file id) stays per service. Texts that fail
/// to parse are not kept, so each service reports the errors.
///
/// Owned by a [`crate::Session`], and bounded: a language server sees a
/// new text of a preset at every keystroke, so the least recently used
/// texts are dropped past [`ParseCache::MAX_FILES`] files or
/// [`ParseCache::MAX_BYTES`] of text.
#[derive(Default)]
pub struct ParseCache(std::sync::Mutex<Parsed>);

#[derive(Default)]
struct Parsed {
    docs: BTreeMap<std::sync::Arc<str>, (std::sync::Arc<kdl::KdlDocument>, u64)>,
    bytes: usize,
    clock: u64,
}

impl ParseCache {
    /// At most this many texts are kept (a repository's presets and
    /// defaults files, with room to spare).
    pub const MAX_FILES: usize = 256;
    /// At most this much text is kept.
    pub const MAX_BYTES: usize = 8 * 1024 * 1024;

    /// The document of `text`, parsed now or earlier.
    pub fn parse(&self, text: &str, diags: &mut Diagnostics) -> Option<std::sync::Arc<kdl::KdlDocument>> {
        if let Ok(mut p) = self.0.lock() {
            p.clock += 1;
            let now = p.clock;
            if let Some((doc, used)) = p.docs.get_mut(text) {
                *used = now;
                return Some(doc.clone());
            }
        }
        let doc = std::sync::Arc::new(syntax::parse(text, diags)?);
        if text.len() <= Self::MAX_BYTES
            && let Ok(mut p) = self.0.lock()
        {
            p.insert(text, doc.clone());
        }
        Some(doc)
    }

    /// How many texts are kept (for tests of the bound).
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |p| p.docs.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Parsed {
    fn insert(&mut self, text: &str, doc: std::sync::Arc<kdl::KdlDocument>) {
        while !self.docs.is_empty()
            && (self.docs.len() >= ParseCache::MAX_FILES || self.bytes + text.len() > ParseCache::MAX_BYTES)
        {
            // The least recently used text: a linear scan of a few hundred entries.
            let Some(oldest) = self.docs.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) else {
                break;
            };
            self.docs.remove(&oldest);
            self.bytes -= oldest.len();
        }
        self.clock += 1;
        let now = self.clock;
        if self.docs.insert(std::sync::Arc::from(text), (doc, now)).is_none() {
            self.bytes += text.len();
        }
    }
}

impl<'a> Ctx<'a> {
    fn new(
        loader: &'a dyn Loader,
        parsed: &'a ParseCache,
        diags: &'a mut Diagnostics,
        imports: &'a mut Vec<SourceFile>,
        spec: &'a str,
        node: Span,
    ) -> Ctx<'a> {
        Ctx {
            loader,
            parsed,
            diags,
            imports,
            spec,
            loaded: BTreeMap::new(),
            expanded: BTreeMap::new(),
            stack: vec![(spec.to_string(), node)],
            stdlib_uses: Vec::new(),
        }
    }

    /// Decode one file as a preset or defaults file, under a new file id.
    fn read(&mut self, input: &Input, kind: PresetKind) -> Option<(FileId, Preset)> {
        let id = FileId::try_from(self.imports.len() + 1).ok()?;
        let mut local = Diagnostics::new();
        let preset = in_file(id, || {
            let file = crate::text_of(input, &mut local);
            self.imports.push(file.clone());
            if local.has_errors() {
                return None;
            }
            let doc = self.parsed.parse(&file.text, &mut local)?;
            decode::decode_preset(&doc, kind, &mut local)
        });
        let ok = !local.has_errors();
        self.diags.extend(local.into_sorted());
        match (ok, preset) {
            (true, Some(p)) => Some((id, p)),
            _ => None,
        }
    }

    /// A preset's effective body: the presets it uses, then its own settings.
    fn expand(&mut self, preset: &Preset, name: &str) -> Body {
        let what = match &preset.name {
            Some(n) => format!("preset `{}`", n.value),
            None => format!("the defaults in {name}"),
        };
        self.stack_layers(&preset.uses, name, Body::default(), &preset.body, &what)
    }

    /// `own` over the presets in `uses` (combined), over `base`.
    fn stack_layers(&mut self, uses: &[Spanned<String>], from: &str, base: Body, own: &Body, what: &str) -> Body {
        let mut combined: Option<Body> = None;
        let mut conflicts = Vec::new();
        let mut first_use: Option<&Spanned<String>> = None;
        let mut seen: Vec<(String, Span, &str)> = Vec::new();
        for u in uses {
            let Some(name) = self.name_of(u, from) else {
                continue;
            };
            if let Some((_, first, written)) = seen.iter().find(|(n, _, _)| *n == name) {
                let mut d = Diagnostic::error(Code::PresetUsedTwice, format!("`{}` is used twice", u.value))
                    .at(u.span, "used again here")
                    .also(*first, "first used here")
                    .help("remove one of the two `use` lines");
                if *written != u.value {
                    d = d.note(format!("`{written}` and `{}` are both {name}", u.value));
                }
                self.diags.push(d);
                continue;
            }
            seen.push((name.clone(), u.span, &u.value));
            let Some(body) = self.body_of(&name, u) else {
                continue;
            };
            combined = Some(match combined {
                None => {
                    first_use = Some(u);
                    body
                }
                Some(acc) => {
                    let what = format!("preset `{}`", u.value);
                    let mut m = Merger::new(self.diags, what, u.span, Mode::Combine { at: u.span });
                    let out = merge::layer(&acc, &body, &mut m);
                    conflicts.extend(m.conflicts);
                    out
                }
            });
        }
        let site = first_use.map_or(Span::default(), |u| u.span);
        let base = match combined {
            Some(c) => merge::layer(&base, &c, &mut Merger::new(self.diags, "the presets", site, Mode::Override)),
            None => base,
        };
        let mut m = Merger::new(self.diags, what, site, Mode::Override).below("no preset or default declares");
        let out = merge::layer(&base, own, &mut m);
        let set = m.set_paths;
        for c in conflicts {
            if set.contains(&c.path) {
                continue;
            }
            let (setting, key) = c.path.split_once('.').map_or((c.path.as_str(), None), |(a, b)| (a, Some(b)));
            let shown = key.map_or(format!("`{setting}`"), |k| format!("`{setting}` `{k}`"));
            self.diags.push(
                Diagnostic::error(Code::ConflictingDefinitions, format!("presets used together disagree on {shown}"))
                    .at(c.at, "this preset sets it differently")
                    .also(c.first, "set here")
                    .also(c.second, "and differently here")
                    .help(format!("set {shown} in {what} itself to decide, or remove it from one of the presets")),
            );
        }
        out
    }

    /// The canonical name of what `use "target"` names: a standard-library
    /// preset, or a file the loader finds (not read yet).
    fn name_of(&mut self, u: &Spanned<String>, from: &str) -> Option<String> {
        if is_file(&u.value) {
            let req = Request { spec: self.spec, from, path: &u.value, kind: FileKind::Preset };
            let located = crate::repo::check_written(&u.value, FileKind::Preset)
                .map_err(|e| LoadError { code: e.code(Code::PresetFile), label: e.reason(), help: e.help().into() })
                .and_then(|()| self.loader.locate(&req));
            return match located {
                Ok(name) => Some(name),
                Err(e) => {
                    self.diags.push(
                        Diagnostic::error(e.code, format!("cannot read preset `{}`", u.value))
                            .at(u.span, e.label)
                            .help(e.help),
                    );
                    None
                }
            };
        }
        if STDLIB.iter().any(|(n, _)| *n == u.value) {
            return Some(format!("stdlib/presets/{}.kdl", u.value));
        }
        let names: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
        let mut d = Diagnostic::error(Code::UnknownPreset, format!("unknown preset `{}`", u.value))
            .at(u.span, "not a standard-library preset");
        d = match did_you_mean(&u.value, &names) {
            Some(s) => d.did_you_mean(s, u.span, crate::diagnostic::kdl_string(s)),
            None => d.help(format!(
                "the standard library has: {}; a file of your own is written as a path: `use \"./presets/{}.kdl\"`",
                names.join(", "),
                u.value
            )),
        };
        self.diags.push(d);
        None
    }

    /// The effective body of the preset named `name` (used at `u`): read,
    /// decoded and expanded at most once per compilation.
    fn body_of(&mut self, name: &str, u: &Spanned<String>) -> Option<Body> {
        if let Some(at) = self.stack.iter().position(|(n, _)| n == name) {
            let chain: Vec<&str> = self.stack[at..].iter().map(|(n, _)| n.as_str()).chain([name]).collect();
            let mut d = Diagnostic::error(Code::ImportCycle, format!("`{}` uses itself", u.value))
                .at(u.span, "this `use` closes a cycle")
                .help("presets form layers: move what both need into a third preset that both use")
                .note(format!("cycle: {}", chain.join(" → ")));
            if at + 1 < self.stack.len() {
                d = d.also(self.stack[at + 1].1, "used from here");
            }
            self.diags.push(d);
            return None;
        }
        if let Some(body) = self.expanded.get(name) {
            return body.clone();
        }
        if self.stack.len() > MAX_USE_DEPTH {
            self.diags.push(
                Diagnostic::error(Code::TooManyPresets, format!("presets are nested more than {MAX_USE_DEPTH} deep"))
                    .at(u.span, "one `use` too deep")
                    .help("flatten the chain: real preset layers are two or three deep")
                    .note(format!(
                        "chain: {} → {name}",
                        self.stack.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" → ")
                    )),
            );
            return None;
        }
        let preset = self.preset(name, u)?;
        self.stack.push((name.to_string(), u.span));
        let body = self.expand(&preset, name);
        self.stack.pop();
        self.expanded.insert(name.to_string(), Some(body.clone()));
        Some(body)
    }

    /// The preset file `name`, decoded (read at most once).
    fn preset(&mut self, name: &str, u: &Spanned<String>) -> Option<Preset> {
        if let Some(p) = self.loaded.get(name) {
            return p.clone();
        }
        if self.loaded.len() >= MAX_PRESET_FILES {
            self.diags.push(
                Diagnostic::error(
                    Code::TooManyPresets,
                    format!("a service uses more than {MAX_PRESET_FILES} preset files"),
                )
                .at(u.span, "one preset file too many")
                .help("merge presets: each file is read and checked for every service that uses it"),
            );
            return None;
        }
        let stdlib = STDLIB.iter().any(|(n, _)| format!("stdlib/presets/{n}.kdl") == name);
        let bytes = match STDLIB.iter().find(|(n, _)| format!("stdlib/presets/{n}.kdl") == name) {
            Some((_, text)) => Ok(text.as_bytes().to_vec()),
            None => {
                let from = self.stack.last().map_or(self.spec, |(n, _)| n.as_str()).to_string();
                let req = Request { spec: self.spec, from: &from, path: &u.value, kind: FileKind::Preset };
                self.loader.read(&req, name)
            }
        };
        let preset = match bytes {
            Ok(bytes) => {
                let input = Input { name: name.to_string(), bytes };
                let read = self.read(&input, PresetKind::Preset);
                if let (true, Some((id, _))) = (stdlib, &read) {
                    self.stdlib_uses.push((*id, u.span));
                }
                let preset = read.map(|(_, p)| p);
                if preset.is_none() {
                    self.diags.push(
                        Diagnostic::error(Code::PresetFile, format!("preset `{}` has errors", u.value))
                            .at(u.span, "used here")
                            .help(format!("fix the problems reported in {name}")),
                    );
                }
                preset
            }
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(e.code, format!("cannot read preset `{}`", u.value))
                        .at(u.span, e.label)
                        .help(e.help),
                );
                None
            }
        };
        self.loaded.insert(name.to_string(), preset.clone());
        preset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parse_cache_keeps_the_recent_texts_only() {
        let cache = ParseCache::default();
        let mut diags = Diagnostics::new();
        for i in 0..ParseCache::MAX_FILES + 40 {
            assert!(cache.parse(&format!("preset p{{ replicas {i} }}"), &mut diags).is_some());
        }
        assert_eq!(cache.len(), ParseCache::MAX_FILES);
        // The oldest went first; a recent one is still there (same document).
        let recent = format!("preset p{{ replicas {} }}", ParseCache::MAX_FILES + 39);
        let a = cache.parse(&recent, &mut diags);
        let b = cache.parse(&recent, &mut diags);
        assert!(matches!((a, b), (Some(a), Some(b)) if std::sync::Arc::ptr_eq(&a, &b)));
        assert!(diags.is_empty());
    }
}
