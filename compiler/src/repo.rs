//! Reading input files: the one place that touches the file system for
//! input. The rest of the library does no I/O; the CLI and the tests read
//! specs, org defaults, preset files and templates through this module
//! alone, so they follow the same rules.
//!
//! Every spec, preset, `_defaults.kdl`, template and file name may be
//! written by a careless or hostile person, and svcc runs in commit hooks
//! and CI next to credentials. So:
//!
//! - **The repository root** of a spec is the nearest folder, from the
//!   spec's own folder upwards, that holds a `.git` entry (a folder, or the
//!   file of a worktree or submodule). When there is none, it is the folder
//!   named on the command line that the spec was found in, or the spec's own
//!   folder when the spec was named itself.
//! - `use` and `template` paths are relative to the file that holds them and
//!   must stay inside the root: absolute paths, `..` leading above the root
//!   and symbolic links resolving outside it are refused (SVC0232). Hidden
//!   files and folders (any path component starting with `.`, such as
//!   `.git/config` or `.env`) are refused (SVC0233), both as written and
//!   as resolved. A `use` file must end in `.kdl` (SVC0231).
//! - `_defaults.kdl` is looked for from the spec's folder up to the root,
//!   never above, under the same rules. A spec is read only if it resolves
//!   inside its root, and not through a symbolic link into a hidden folder
//!   (a spec named inside one, `svcc check .ci/x.kdl`, is read).
//! - Only regular files are read: the type is checked before the file is
//!   opened (so a named pipe cannot block) and again on the open handle
//!   (SVC0907). Every read stops after [`MAX_FILE_BYTES`] (SVC0908), so a
//!   device or an endless file cannot exhaust memory.
//!
//! A refused file is never opened, and the text of a file that is not a
//! KDL source or template svcc parsed is never shown.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::Input;
use crate::compose::{FileKind, LoadError, Loader, Request};
use crate::diagnostic::Code;

/// The most svcc reads of any one file: specs, presets, `_defaults.kdl`
/// and templates. A service spec is a few kilobytes, and the KDL parser
/// reads roughly 40 KB/s in a debug build, so a stray huge file (or a
/// device) must not stall a commit hook.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The name of an org defaults file (`docs/presets.md`).
pub const DEFAULTS_FILE: &str = "_defaults.kdl";

/// Why a file was not read.
#[derive(Debug)]
pub enum Refusal {
    /// The path is absolute.
    Absolute,
    /// `..` leads above the repository root.
    Escapes,
    /// The file resolves (through a symbolic link) outside the root.
    Outside,
    /// A component of the path starts with `.`.
    Hidden(String),
    /// A `use` names a file that does not end in `.kdl`.
    NotKdl,
    /// Not a regular file: what it is instead.
    NotAFile(&'static str),
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// The file system said no (missing file, permissions, …).
    Io(std::io::Error),
}

impl Refusal {
    /// The diagnostic code; `io` is the code of a plain read failure, which
    /// depends on what was being read.
    pub fn code(&self, io: Code) -> Code {
        match self {
            Refusal::Absolute | Refusal::Escapes | Refusal::Outside => Code::OutsideRepository,
            Refusal::Hidden(_) => Code::HiddenFile,
            Refusal::NotKdl => Code::PresetFile,
            Refusal::NotAFile(_) => Code::NotAFile,
            Refusal::TooLarge => Code::FileTooLarge,
            Refusal::Io(_) => io,
        }
    }

    /// What is wrong, for a label or a message.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Absolute => "an absolute path: files are named relative to the file that uses them".into(),
            Refusal::Escapes => "`..` leads above the repository root".into(),
            Refusal::Outside => "resolves (through a symbolic link) to a file outside the repository".into(),
            Refusal::Hidden(c) => format!("`{c}` is hidden: svcc never reads hidden files or folders"),
            Refusal::NotKdl => "a preset file must end in `.kdl`".into(),
            Refusal::NotAFile(what) => format!("{what}, not a regular file"),
            Refusal::TooLarge => format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
            Refusal::Io(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file".into(),
            Refusal::Io(e) => e.to_string(),
        }
    }

    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Refusal::Absolute | Refusal::Escapes | Refusal::Outside => {
                "svcc reads only files inside the repository (the nearest folder holding `.git`): \
                 write a path relative to this file that stays inside it (docs/security.md)"
            }
            Refusal::Hidden(_) => {
                "hidden files often hold secrets or git internals; move the file to a folder whose name does not start with `.`"
            }
            Refusal::NotKdl => "name the preset file `NAME.kdl`, or write a standard-library preset's name",
            Refusal::NotAFile(_) => "name a regular file: svcc does not read pipes, devices or folders",
            Refusal::TooLarge => {
                "specs, presets and templates are a few kilobytes; check that this is the file you meant"
            }
            Refusal::Io(_) => "paths are relative to the file that names them",
        }
    }

    fn into_load_error(self, kind: FileKind) -> LoadError {
        let io = match kind {
            FileKind::Preset => Code::PresetFile,
            FileKind::Template => Code::TemplateError,
            FileKind::Config => Code::ConfigFile,
        };
        LoadError { code: self.code(io), label: self.reason(), help: self.help().to_string() }
    }
}

/// The checks that need no file system: a `use` or `template` path must be
/// relative, without hidden components, and a `use` file must end in
/// `.kdl`. Run by the library before any loader is asked.
pub fn check_written(path: &str, kind: FileKind) -> Result<(), Refusal> {
    let p = Path::new(path);
    if p.is_absolute() || p.has_root() || path.starts_with('\\') {
        return Err(Refusal::Absolute);
    }
    if let Some(c) = hidden_component(p) {
        return Err(Refusal::Hidden(c));
    }
    if kind == FileKind::Preset && !path.ends_with(".kdl") {
        return Err(Refusal::NotKdl);
    }
    Ok(())
}

/// The first component of `p` that names a hidden file or folder.
fn hidden_component(p: &Path) -> Option<String> {
    p.components().find_map(|c| match c {
        Component::Normal(s) if s.to_string_lossy().starts_with('.') => Some(s.to_string_lossy().into_owned()),
        _ => None,
    })
}

/// Read a regular file, at most [`MAX_FILE_BYTES`] of it. The type is
/// checked before opening, so a named pipe never blocks, and again on the
/// open handle.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, Refusal> {
    let meta = std::fs::metadata(path).map_err(Refusal::Io)?;
    if !meta.is_file() {
        return Err(Refusal::NotAFile(what_is(&meta)));
    }
    let file = std::fs::File::open(path).map_err(Refusal::Io)?;
    let meta = file.metadata().map_err(Refusal::Io)?;
    if !meta.is_file() {
        return Err(Refusal::NotAFile(what_is(&meta)));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(Refusal::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Refusal::TooLarge);
    }
    Ok(bytes)
}

fn what_is(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() { "a folder" } else { "a special file" }
}

/// The repository root for a spec whose (canonical) folder is `dir`: the
/// nearest folder from `dir` upwards holding `.git`, else `fallback` (the
/// canonical folder named on the command line).
pub fn find_root(dir: &Path, fallback: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .map_or_else(|| fallback.to_path_buf(), Path::to_path_buf)
}

/// `p` relative to `root` with `.` dropped and `..` applied, or `None`
/// when `..` would leave `root`. No file-system access.
fn within(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(s) => out.push(s),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The confined view of the file system that specs are read through. File
/// names are shown relative to `base` (the current folder for the CLI, the
/// repository for tests) when they lie below it, else in full.
pub struct Repo {
    base: PathBuf,
    /// Spec name (as given) → its repository root (canonical).
    roots: BTreeMap<String, PathBuf>,
    /// Canonical folder → its `_defaults.kdl`, if any.
    defaults: BTreeMap<PathBuf, Option<Input>>,
}

impl Repo {
    /// Names are relative to `base` (which must exist).
    pub fn new(base: &Path) -> std::io::Result<Repo> {
        Ok(Repo { base: base.canonicalize()?, roots: BTreeMap::new(), defaults: BTreeMap::new() })
    }

    /// Names relative to the current folder.
    pub fn in_current_dir() -> std::io::Result<Repo> {
        Repo::new(&std::env::current_dir()?)
    }

    /// How a file is named in messages and as a `from` for its own `use`s.
    fn display(&self, canonical: &Path) -> String {
        match canonical.strip_prefix(&self.base) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => canonical.display().to_string(),
        }
    }

    /// The name a service's `imports` give the file at `path` (relative to
    /// the base, or absolute) when it reads it: a preset by its resolved
    /// path, an org defaults file by its resolved folder (as
    /// [`Repo::defaults_for`] finds it).
    pub fn import_name(&self, path: &Path, preset: bool) -> Option<String> {
        let full = self.base.join(path);
        let canonical = if preset {
            full.canonicalize().ok()?
        } else {
            self.folder_of(&path.display().to_string()).ok()?.join(full.file_name()?)
        };
        Some(self.display(&canonical))
    }

    /// The canonical folder holding the file `name` (relative to `base`).
    fn folder_of(&self, name: &str) -> Result<PathBuf, Refusal> {
        let full = self.base.join(name);
        let dir = full.parent().unwrap_or(&self.base);
        let dir = if dir.as_os_str().is_empty() { self.base.as_path() } else { dir };
        dir.canonicalize().map_err(Refusal::Io)
    }

    /// The root of the spec named `spec`: as registered by
    /// [`Repo::read_spec`], else as if the spec were named by itself.
    fn root_of(&self, spec: &str) -> Result<PathBuf, Refusal> {
        if let Some(r) = self.roots.get(spec) {
            return Ok(r.clone());
        }
        let dir = self.folder_of(spec)?;
        Ok(find_root(&dir, &dir))
    }

    /// Read the spec `path` (relative to `base`, or absolute), found through
    /// `argument`, the file or folder named on the command line. Its root is
    /// remembered for the presets, templates and defaults it reads.
    pub fn read_spec(&mut self, path: &Path, argument: &Path) -> Result<Input, Refusal> {
        let name = path.display().to_string();
        let dir = self.folder_of(&name)?;
        let arg = self.base.join(argument);
        let fallback = if arg.is_dir() { arg.canonicalize().map_err(Refusal::Io)? } else { dir.clone() };
        let root = find_root(&dir, &fallback);
        let file = self.base.join(path).canonicalize().map_err(Refusal::Io)?;
        let rel = file.strip_prefix(&root).map_err(|_| Refusal::Outside)?;
        // A spec named inside a hidden folder is read (it was asked for);
        // one that only a symbolic link leads into a hidden folder is not.
        if let Some(c) = hidden_component(rel)
            && hidden_component(path).is_none()
        {
            return Err(Refusal::Hidden(c));
        }
        let bytes = read_regular(&file)?;
        self.roots.insert(name.clone(), root);
        Ok(Input { name, bytes })
    }

    /// The org defaults files that apply to the spec `path` (read with
    /// [`Repo::read_spec`] first): `_defaults.kdl` in its folder and each
    /// folder above, up to its root; outermost first. Refused files come
    /// back as (name, reason).
    pub fn defaults_for(&mut self, path: &Path) -> (Vec<Input>, Vec<(String, Refusal)>) {
        let name = path.display().to_string();
        let (dir, root) = match self.folder_of(&name).and_then(|d| Ok((d, self.root_of(&name)?))) {
            Ok(x) => x,
            Err(e) => return (Vec::new(), vec![(name, e)]),
        };
        let mut found = Vec::new();
        let mut refused = Vec::new();
        for d in dir.ancestors().take_while(|d| d.starts_with(&root)) {
            if !self.defaults.contains_key(d) {
                let input = match self.defaults_in(d, &root) {
                    Ok(i) => i,
                    Err(e) => {
                        refused.push((self.display(&d.join(DEFAULTS_FILE)), e));
                        None
                    }
                };
                self.defaults.insert(d.to_path_buf(), input);
            }
            if let Some(Some(i)) = self.defaults.get(d) {
                found.push(i.clone());
            }
        }
        found.reverse();
        (found, refused)
    }

    /// The `_defaults.kdl` of the canonical folder `dir`, if there is one.
    fn defaults_in(&self, dir: &Path, root: &Path) -> Result<Option<Input>, Refusal> {
        let f = dir.join(DEFAULTS_FILE);
        match std::fs::symlink_metadata(&f) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Refusal::Io(e)),
            Ok(_) => {}
        }
        let canonical = f.canonicalize().map_err(Refusal::Io)?;
        confined(root, &canonical, FileKind::Preset)?;
        let bytes = read_regular(&canonical)?;
        Ok(Some(Input { name: self.display(&f), bytes }))
    }

    /// The canonical path of what `req` names, inside the spec's root.
    fn resolve(&self, req: &Request<'_>) -> Result<PathBuf, Refusal> {
        check_written(req.path, req.kind)?;
        let root = self.root_of(req.spec)?;
        let from = self.folder_of(req.from)?;
        let rel = from.strip_prefix(&root).map_err(|_| Refusal::Outside)?;
        let lexical = within(&rel.join(req.path)).ok_or(Refusal::Escapes)?;
        let canonical = root.join(lexical).canonicalize().map_err(Refusal::Io)?;
        confined(&root, &canonical, req.kind)?;
        Ok(canonical)
    }
}

/// The preset files of a repository, for an editor to offer: the `.kdl`
/// files in folders named `presets` below `root`. Hidden folders and
/// symbolic links are not followed, and the walk is bounded (8 folders
/// deep, 20,000 entries), so a huge or hostile tree cannot stall it.
pub fn preset_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            seen += 1;
            if seen > 20_000 {
                out.sort();
                return out;
            }
            let name = e.file_name().to_string_lossy().to_string();
            // The entry's own type: a symbolic link is neither.
            let Ok(t) = e.file_type() else { continue };
            if name.starts_with('.') {
                continue;
            }
            if t.is_dir() && name != "target" && name != "node_modules" && depth < 8 {
                stack.push((e.path(), depth + 1));
            } else if t.is_file() && name.ends_with(".kdl") && dir.file_name().is_some_and(|d| d == "presets") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// A resolved file must lie inside `root`, under no hidden folder, and a
/// preset must still end in `.kdl`.
fn confined(root: &Path, canonical: &Path, kind: FileKind) -> Result<(), Refusal> {
    let rel = canonical.strip_prefix(root).map_err(|_| Refusal::Outside)?;
    if let Some(c) = hidden_component(rel) {
        return Err(Refusal::Hidden(c));
    }
    if kind == FileKind::Preset && canonical.extension().is_none_or(|x| x != "kdl") {
        return Err(Refusal::NotKdl);
    }
    Ok(())
}

impl Loader for Repo {
    fn locate(&self, req: &Request<'_>) -> Result<String, LoadError> {
        self.resolve(req).map(|p| self.display(&p)).map_err(|e| e.into_load_error(req.kind))
    }

    fn read(&self, req: &Request<'_>, name: &str) -> Result<Vec<u8>, LoadError> {
        // `name` came from `locate`; check it again, as the file system may
        // have changed in between.
        let checked = || -> Result<Vec<u8>, Refusal> {
            let root = self.root_of(req.spec)?;
            let canonical = self.base.join(name).canonicalize().map_err(Refusal::Io)?;
            confined(&root, &canonical, req.kind)?;
            read_regular(&canonical)
        };
        checked().map_err(|e| e.into_load_error(req.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_paths_are_checked_without_the_file_system() {
        assert!(matches!(check_written("/etc/passwd.kdl", FileKind::Preset), Err(Refusal::Absolute)));
        assert!(matches!(check_written("./.git/config", FileKind::Template), Err(Refusal::Hidden(c)) if c == ".git"));
        assert!(matches!(check_written("ci/.env", FileKind::Template), Err(Refusal::Hidden(_))));
        assert!(matches!(check_written("./p.txt", FileKind::Preset), Err(Refusal::NotKdl)));
        assert!(check_written("../shared/p.kdl", FileKind::Preset).is_ok());
        assert!(check_written("./ci/notify.sh.hbs", FileKind::Template).is_ok());
    }

    #[test]
    fn dot_dot_may_not_leave_the_root() {
        assert_eq!(within(Path::new("a/./b/../c")), Some(PathBuf::from("a/c")));
        assert_eq!(within(Path::new("a/../b")), Some(PathBuf::from("b")));
        assert_eq!(within(Path::new("a/../../b")), None);
        assert_eq!(within(Path::new("../b")), None);
    }
}
