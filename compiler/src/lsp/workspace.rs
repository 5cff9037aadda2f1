//! The server's workspace: open buffers, the last run of each, and the
//! diagnostics published to every file those runs read.
//!
//! A spec is run through [`Session::run`] as `svcc check` would run it,
//! except that open buffers override the disk: the spec's own text, the
//! presets it uses and its `_defaults.kdl` files are read through
//! [`Repo`] (the confined reader) and replaced by their buffers when open.
//! A diagnostic lands in the file it points into, so a preset's problems
//! show in the preset, and every run that read a file is run again when
//! that file changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lsp_types as lsp;

use super::text::{LineIndex, uri_of};
use crate::compose::{LoadError, Loader, Request, STDLIB};
use crate::diagnostic::{Diagnostic, Severity};
use crate::repo::Repo;
use crate::source::{SourceFile, Span};
use crate::{Input, Options, Run, Session};

/// An open buffer.
pub struct Doc {
    pub text: String,
    pub version: i32,
}

/// The last run of an open file.
pub struct Analysis {
    pub run: Run,
    /// The files the run read (presets, org defaults), as absolute paths.
    pub reads: BTreeSet<PathBuf>,
}

pub struct Workspace {
    pub root: PathBuf,
    pub session: Session,
    pub docs: BTreeMap<PathBuf, Doc>,
    pub analyses: BTreeMap<PathBuf, Analysis>,
    /// Where a code's page is: `{base}SVCnnnn.md`.
    pub docs_base: String,
    /// File → open file whose run reported there → its diagnostics there.
    contributions: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<lsp::Diagnostic>>>,
}

/// The URI of a standard-library preset, shown read-only.
pub fn stdlib_uri(name: &str) -> Option<lsp::Uri> {
    format!("svcc:/stdlib/presets/{name}.kdl").parse().ok()
}

/// Reads through the confined [`Repo`], with open buffers over the disk.
struct Overlay<'a> {
    repo: &'a Repo,
    root: &'a Path,
    open: &'a BTreeMap<PathBuf, Doc>,
}

impl Loader for Overlay<'_> {
    fn locate(&self, req: &Request<'_>) -> Result<String, LoadError> {
        self.repo.locate(req)
    }

    fn read(&self, req: &Request<'_>, name: &str) -> Result<Vec<u8>, LoadError> {
        match self.open.get(&self.root.join(name)) {
            Some(d) => Ok(d.text.clone().into_bytes()),
            None => self.repo.read(req, name),
        }
    }
}

impl Workspace {
    pub fn new(root: PathBuf, docs_base: String) -> Workspace {
        Workspace {
            root,
            session: Session::new(),
            docs: BTreeMap::new(),
            analyses: BTreeMap::new(),
            docs_base,
            contributions: BTreeMap::new(),
        }
    }

    /// The name a file goes by in runs: relative to the root when below it.
    fn name_of(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }

    /// The absolute path of a file a run read (`SourceFile::name`).
    pub fn path_of_name(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Whether an import of a run is an embedded standard-library preset.
    pub fn stdlib_name(file: &SourceFile) -> Option<&'static str> {
        STDLIB
            .iter()
            .find(|(n, text)| file.name == format!("stdlib/presets/{n}.kdl") && *text == &*file.text)
            .map(|(n, _)| *n)
    }

    /// Run the open file `path` and remember the run. Returns the files
    /// whose published diagnostics changed.
    pub fn analyze(&mut self, path: &Path) -> BTreeSet<PathBuf> {
        let Some(doc) = self.docs.get(path) else { return self.forget(path) };
        let name = self.name_of(path);
        let mut repo = match Repo::new(&self.root) {
            Ok(r) => r,
            Err(_) => return BTreeSet::new(),
        };
        // Registers the spec's repository root (when it is on disk).
        let _ = repo.read_spec(Path::new(&name), Path::new("."));
        let (mut defaults, _) = repo.defaults_for(Path::new(&name));
        defaults.retain(|d| self.root.join(&d.name) != path);
        for d in &mut defaults {
            if let Some(open) = self.docs.get(&self.root.join(&d.name)) {
                d.bytes = open.text.clone().into_bytes();
            }
        }
        let input = Input { name, bytes: doc.text.clone().into_bytes() };
        let opts = Options { check_only: true, any_role: true, ..Options::default() };
        let loader = Overlay { repo: &repo, root: &self.root, open: &self.docs };
        let run = self.session.run(&input, &defaults, &loader, &opts);
        let reads: BTreeSet<PathBuf> =
            run.imports.iter().filter(|f| Self::stdlib_name(f).is_none()).map(|f| self.path_of_name(&f.name)).collect();
        let by_file = self.convert(path, &run);
        self.analyses.insert(path.to_path_buf(), Analysis { run, reads });
        self.contribute(path, by_file)
    }

    /// Drop what `path`'s runs reported (it was closed).
    pub fn forget(&mut self, path: &Path) -> BTreeSet<PathBuf> {
        self.analyses.remove(path);
        self.contribute(path, BTreeMap::new())
    }

    /// The open files whose last run read `path`.
    pub fn dependents(&self, path: &Path) -> Vec<PathBuf> {
        self.analyses.iter().filter(|(p, a)| *p != path && a.reads.contains(path)).map(|(p, _)| p.clone()).collect()
    }

    /// Replace what `source`'s run reported; the files whose set changed.
    fn contribute(&mut self, source: &Path, by_file: BTreeMap<PathBuf, Vec<lsp::Diagnostic>>) -> BTreeSet<PathBuf> {
        let mut changed = BTreeSet::new();
        for (file, from) in &mut self.contributions {
            if !by_file.contains_key(file) && from.remove(source).is_some() {
                changed.insert(file.clone());
            }
        }
        for (file, diags) in by_file {
            let from = self.contributions.entry(file.clone()).or_default();
            if from.get(source) != Some(&diags) {
                from.insert(source.to_path_buf(), diags);
                changed.insert(file);
            }
        }
        // The file being run always gets an answer, even an empty one.
        if self.docs.contains_key(source) {
            changed.insert(source.to_path_buf());
        }
        self.contributions.retain(|_, from| !from.is_empty());
        changed
    }

    /// The diagnostics to publish for `file`: every run's, without repeats.
    pub fn published(&self, file: &Path) -> Vec<lsp::Diagnostic> {
        let mut out: Vec<lsp::Diagnostic> = Vec::new();
        for d in self.contributions.get(file).into_iter().flat_map(|m| m.values()).flatten() {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
        out
    }

    /// The URI of the file a span of `run` points into.
    pub fn uri_of_span(&self, run: &Run, main: &Path, span: Span) -> Option<lsp::Uri> {
        match span.file {
            0 => uri_of(main),
            _ => {
                let f = run.source(span)?;
                match Self::stdlib_name(f) {
                    Some(n) => stdlib_uri(n),
                    None => uri_of(&self.path_of_name(&f.name)),
                }
            }
        }
    }

    /// A span of `run` as a protocol location.
    pub fn location(&self, run: &Run, main: &Path, span: Span) -> Option<lsp::Location> {
        let file = run.source(span)?;
        let range = LineIndex::new(&file.text).range(span.start as usize, span.end as usize);
        Some(lsp::Location { uri: self.uri_of_span(run, main, span)?, range })
    }

    /// `run`'s diagnostics by the file they point into (the main file
    /// always has an entry).
    fn convert(&self, main: &Path, run: &Run) -> BTreeMap<PathBuf, Vec<lsp::Diagnostic>> {
        let mut out: BTreeMap<PathBuf, Vec<lsp::Diagnostic>> = BTreeMap::new();
        out.insert(main.to_path_buf(), Vec::new());
        for d in &run.diagnostics {
            let span = d.primary.as_ref().map_or(Span::default(), |l| l.span);
            let Some(file) = run.source(span) else { continue };
            if span.file != 0 && Self::stdlib_name(file).is_some() {
                continue;
            }
            let path = if span.file == 0 { main.to_path_buf() } else { self.path_of_name(&file.name) };
            out.entry(path).or_default().push(self.diagnostic(run, main, d, &file.text));
        }
        out
    }

    fn diagnostic(&self, run: &Run, main: &Path, d: &Diagnostic, text: &str) -> lsp::Diagnostic {
        let span = d.primary.as_ref().map_or(Span::default(), |l| l.span);
        let range = LineIndex::new(text).range(span.start as usize, span.end as usize);
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        for n in &d.notes {
            message.push_str("\nnote: ");
            message.push_str(n);
        }
        let related: Vec<lsp::DiagnosticRelatedInformation> = d
            .secondary
            .iter()
            .filter_map(|l| {
                let location = self.location(run, main, l.span)?;
                Some(lsp::DiagnosticRelatedInformation { location, message: l.message.clone() })
            })
            .collect();
        let href = format!("{}{}.md", self.docs_base, d.code.as_str()).parse().ok();
        lsp::Diagnostic {
            range,
            severity: Some(match d.severity {
                Severity::Error => lsp::DiagnosticSeverity::ERROR,
                Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            }),
            code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
            code_description: href.map(|href| lsp::CodeDescription { href }),
            source: Some("svcc".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: d.fix.as_ref().and_then(|f| self.fix_data(run, main, f)),
        }
    }

    /// A fix as a workspace edit, carried in the diagnostic's `data` so a
    /// code action request gets it back.
    fn fix_data(&self, run: &Run, main: &Path, fix: &crate::diagnostic::Fix) -> Option<serde_json::Value> {
        let mut edits = Vec::new();
        for e in &fix.edits {
            let loc = self.location(run, main, e.span)?;
            edits.push(serde_json::json!({ "uri": loc.uri, "range": loc.range, "newText": e.text }));
        }
        Some(serde_json::json!({ "fix": { "title": fix.title, "edits": edits } }))
    }
}
