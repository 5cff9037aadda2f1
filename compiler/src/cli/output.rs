//! Writing the output folder: staging, the crash-safe swap of whole
//! folders, ownership markers, and the checks that keep svcc inside `-o`.
//!
//! `-o DIR` is resolved once (a link there, or above it, is the user's
//! choice and is followed); below it svcc never follows a symbolic link:
//! one found at or inside a folder it would replace stops the build
//! (SVC0910) before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use svcc::diagnostic::{Code, Diagnostic};
use svcc::emit::Artifact;

mod committed;
mod extra;
mod scan;
mod swap;

pub(super) use committed::{AtRef, exists, marked_folders, read_committed};
pub(super) use extra::with_extras;

/// The prefix of the staging folders a [`Writer`] creates under `-o`
/// (and beside it, for a first build).
pub const STAGING_PREFIX: &str = ".svcc-staging-";

/// An output folder being written one service at a time: [`Writer::open`]
/// prepares it, [`Writer::stage`] (from any thread) writes one service's
/// changed folders into a staging folder, and [`Writer::commit`] swaps them
/// all in (crash-safe: see [`swap`]). Each `<service>/<environment>` and
/// `<service>/pipeline` folder is replaced as a whole; folders that already
/// hold exactly the new files are left as they are (not even their
/// modification times change). Until the commit nothing in the output
/// changes, and a writer dropped without committing removes its staging
/// folder: a failed build leaves the output as it was.
///
/// Builds into the same `dir` take turns (an exclusive lock on `dir`
/// itself), so concurrent builds cannot interleave their swaps; the last
/// one to finish wins, whole. A `dir` that does not exist yet is staged
/// whole beside it and renamed into place: one rename instead of a swap per
/// folder.
pub struct Writer {
    root: PathBuf,
    shown: String,
    /// Inside `root`, or beside it for a first build (`fresh`).
    staging: PathBuf,
    fresh: bool,
    /// Held until the writer is dropped: on `root`, or on the staging
    /// folder beside it.
    _lock: Option<std::fs::File>,
    warnings: Vec<Diagnostic>,
    staged: std::sync::Mutex<Staged>,
}

/// What the services staged so far: the folders to swap in, and the
/// problems that stop the commit.
#[derive(Default)]
struct Staged {
    folders: Vec<String>,
    /// Every folder the build owns, changed or not (what `--prune` keeps).
    built: BTreeSet<String>,
    errors: Vec<Diagnostic>,
}

impl Writer {
    /// Prepare `dir`: refuse a linked `-o` or one holding `inputs` (the
    /// specs and org defaults read so far), clean what killed builds left,
    /// finish or undo an interrupted swap, and create the staging folder.
    pub fn open(dir: &Path, inputs: &[PathBuf]) -> Result<Writer, Vec<Diagnostic>> {
        let shown = dir.display().to_string();
        let failed = |e: std::io::Error| {
            vec![
                Diagnostic::error(Code::WriteFailed, format!("cannot write to `{shown}`: {e}"))
                    .help("nothing was changed in the output folder"),
            ]
        };
        if let Some(d) = linked_output(dir) {
            return Err(vec![d]);
        }
        let root = resolve(dir).map_err(failed)?;
        refuse_inputs(&shown, &root, inputs)?;
        clean_beside(&root);
        // Nothing at all at that path (not even a dangling symlink, which a
        // rename would replace): a first build, staged beside it.
        if std::fs::symlink_metadata(&root).is_err() {
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let parent = root.parent().unwrap_or(Path::new("/")).to_path_buf();
            std::fs::create_dir_all(&parent).map_err(failed)?;
            let (staging, lock) = staging_beside(&parent, &name).map_err(failed)?;
            let staged = std::sync::Mutex::default();
            return Ok(Writer { root, shown, staging, fresh: true, _lock: lock, warnings: Vec::new(), staged });
        }
        std::fs::create_dir_all(&root).map_err(failed)?;
        let lock = lock_folder(&root).map_err(failed)?;
        let mut warnings = Vec::new();
        if lock.is_some() {
            // No other build is writing: finish or undo a swap that a killed
            // build left, then drop the staging folders such builds abandoned.
            warnings.extend(recover(&root, &shown)?);
            clean_inside(&root);
        }
        let staging = root.join(format!("{STAGING_PREFIX}{}", staging_suffix()));
        std::fs::create_dir(&staging).map_err(failed)?;
        let staged = std::sync::Mutex::default();
        Ok(Writer { root, shown, staging, fresh: false, _lock: lock, warnings, staged })
    }

    /// Stage one service's files: refuse links and folders svcc does not
    /// own where they go (reported at the commit), and write the folders
    /// whose files differ from what `root` holds.
    pub fn stage(&self, artifacts: &[Artifact]) {
        let owned = svcc::diff::owned_folders(artifacts);
        let changed = if self.fresh {
            Ok(artifacts.to_vec())
        } else {
            // Unmarked folders are read too: their `extra/` files are carried over.
            let found = scan::scan(&self.root, &owned, true);
            with_extras(artifacts.to_vec(), &found.files, &found.binary, &self.shown).and_then(|all| {
                refuse_unsafe(&self.root, &self.shown, &found, &all).map(|()| changed_folders(&self.root, &found, &all))
            })
        };
        let written = changed.and_then(|changed| {
            write_files(&self.staging, &changed).map(|()| svcc::diff::owned_folders(&changed)).map_err(|e| {
                vec![
                    Diagnostic::error(Code::WriteFailed, format!("cannot write to `{}`: {e}", self.shown))
                        .help("nothing was changed in the output folder"),
                ]
            })
        });
        let mut staged = self.staged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        staged.built.extend(owned);
        match written {
            Ok(folders) => staged.folders.extend(folders),
            Err(errors) => staged.errors.extend(errors),
        }
    }

    /// Swap every staged folder in, after checking that the output holds
    /// none of `inputs` (now with the presets and templates the build read);
    /// with `prune`, then remove the owned folders the build did not write.
    /// `Ok` carries warnings (an interrupted build recovered).
    pub fn commit(self, inputs: &[PathBuf], prune: bool) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let staged = std::mem::take(&mut *self.staged.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !staged.errors.is_empty() {
            return Err(staged.errors);
        }
        refuse_inputs(&self.shown, &self.root, inputs)?;
        let failed = |e: std::io::Error| {
            vec![
                Diagnostic::error(Code::WriteFailed, format!("cannot write to `{}`: {e}", self.shown))
                    .help("nothing was changed in the output folder"),
            ]
        };
        let mut folders = staged.folders;
        folders.sort();
        if self.fresh {
            match swap::CrashHook::from_env().rename(&self.staging, &self.root) {
                Ok(()) => return Ok(self.warnings.clone()),
                // Another build created the folder meanwhile: swap into it.
                Err(_) if std::fs::symlink_metadata(&self.root).is_ok() => {}
                Err(e) => return Err(failed(e)),
            }
            // Under its lock, so that its builds' cleanup (which removes
            // staging folders inside it as abandoned) waits for this swap.
            let lock = lock_folder(&self.root).map_err(failed)?;
            let inside = self.root.join(format!("{STAGING_PREFIX}{}", staging_suffix()));
            std::fs::rename(&self.staging, &inside).map_err(failed)?;
            let result = swap_in(&self.root, &inside, &folders);
            let _ = std::fs::remove_dir_all(&inside);
            drop(lock);
            return result.map(|()| self.warnings.clone()).map_err(failed);
        }
        if !folders.is_empty() {
            swap_in(&self.root, &self.staging, &folders).map_err(failed)?;
        }
        if prune {
            prune_folders(&self.root, &self.staging, &staged.built).map_err(failed)?;
        }
        Ok(self.warnings.clone())
    }
}

/// `--prune`: remove the folders under `root` that svcc owns (marked) and
/// that no service of this build writes, each moved into `staging` in one
/// rename (no half-deleted folder is ever visible; the staging folder goes
/// when the writer is dropped); a service folder left empty goes too.
/// Nothing is followed: a link is never listed as an owned folder.
fn prune_folders(root: &Path, staging: &Path, built: &BTreeSet<String>) -> std::io::Result<()> {
    let gone = staging.join(".pruned");
    for folder in scan::marked_folders(root).into_iter().filter(|f| !built.contains(f)) {
        let to = gone.join(&folder);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(root.join(&folder), &to)?;
        if let Some((service, _)) = folder.split_once('/') {
            // Only when empty: anything else in it is not svcc's.
            let _ = std::fs::remove_dir(root.join(service));
        }
    }
    Ok(())
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Committed: gone already (renamed, or emptied by the swap).
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// Swap `folders` of `staging` (a folder inside `root`) into `root`.
fn swap_in(root: &Path, staging: &Path, folders: &[String]) -> std::io::Result<()> {
    let name = staging.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    swap::swap(root, &name, folders)
}

/// `-o DIR` that is itself a symbolic link: refused, since a link
/// committed in place of the output folder would send every write (and
/// every `--check` read) wherever it points. Folders above `DIR` may be
/// links (`/tmp` on some systems is one): they are the user's choice.
pub(super) fn linked_output(dir: &Path) -> Option<Diagnostic> {
    let meta = std::fs::symlink_metadata(dir).ok()?;
    if !meta.file_type().is_symlink() {
        return None;
    }
    let to = std::fs::read_link(dir).map(|t| t.display().to_string()).unwrap_or_default();
    Some(
        Diagnostic::error(Code::SymlinkRefused, format!("`{}` is a symbolic link", dir.display()))
            .help("svcc writes its output only into a real folder: point `-o` at the folder the link names, or replace the link with a folder")
            .note(format!("it points to `{to}`")),
    )
}

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

/// The output folder as an absolute path without links: the existing part
/// resolved, the part still to create appended.
pub(super) fn resolve(dir: &Path) -> std::io::Result<PathBuf> {
    if std::fs::symlink_metadata(dir).is_ok() {
        return std::fs::canonicalize(dir);
    }
    let abs = normalize(&std::env::current_dir()?.join(dir));
    let mut missing = Vec::new();
    let mut at = abs.as_path();
    while std::fs::symlink_metadata(at).is_err() {
        let (Some(name), Some(parent)) = (at.file_name(), at.parent()) else { break };
        missing.push(name);
        at = parent;
    }
    let mut out = std::fs::canonicalize(at)?;
    out.extend(missing.iter().rev());
    Ok(out)
}

/// The output folder's path from the root of its git repository (`deploy`,
/// `/`-separated), which the GitOps engines' objects name; `None` outside a
/// git repository, or for the repository root itself.
pub(super) fn repo_path(dir: &Path) -> Option<String> {
    let resolved = resolve(dir).ok()?;
    let root = resolved.ancestors().find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())?;
    let rel = resolved.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Refuse an output folder that holds an input of the build (or is one of
/// the folders given as input): the swap would delete it.
fn refuse_inputs(shown: &str, root: &Path, inputs: &[PathBuf]) -> Result<(), Vec<Diagnostic>> {
    if std::fs::symlink_metadata(root).is_err() {
        return Ok(());
    }
    let mut parents: BTreeMap<PathBuf, Option<PathBuf>> = BTreeMap::new();
    let mut canonical = |p: &Path| -> Option<PathBuf> {
        let meta = std::fs::symlink_metadata(p).ok()?;
        if meta.is_dir() || meta.file_type().is_symlink() {
            return std::fs::canonicalize(p).ok();
        }
        // Many specs share a folder: resolve each folder once.
        let parent = p.parent().filter(|x| !x.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir = parents.entry(parent.to_path_buf()).or_insert_with(|| std::fs::canonicalize(parent).ok());
        Some(dir.as_ref()?.join(p.file_name()?))
    };
    let mut inside: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for p in inputs {
        if let Some(c) = canonical(p)
            && c.starts_with(root)
            && seen.insert(c)
        {
            inside.push(format!("`{}`", p.display()));
        }
    }
    if inside.is_empty() {
        return Ok(());
    }
    let count = inside.len();
    let mut listed = inside.into_iter().take(5).collect::<Vec<_>>().join(", ");
    if count > 5 {
        listed.push_str(&format!(" and {} more", count - 5));
    }
    let d = Diagnostic::error(
        Code::OutputHoldsInput,
        format!("the output folder `{shown}` holds an input of this build: {listed}"),
    )
    .help("write the output to a folder of its own, such as `-o deploy/`, outside the specs")
    .note("svcc replaces whole folders under the output folder and could delete the specs, presets or defaults files it reads");
    Err(vec![d])
}

/// Refuse links at or below the folders the build would replace (SVC0910),
/// and folders svcc did not write (SVC0911), all reported together.
fn refuse_unsafe(root: &Path, shown: &str, found: &scan::Found, artifacts: &[Artifact]) -> Result<(), Vec<Diagnostic>> {
    let at = |p: &str| format!("{}/{p}", shown.trim_end_matches('/'));
    let mut errors = Vec::new();
    for p in &found.problems {
        match p {
            scan::Problem::Symlink(path) => errors.push(scan::symlink_diagnostic(&at(path), &root.join(path))),
            // A file where an owned folder goes (a file where a service
            // folder goes makes the swap fail instead: SVC0902).
            scan::Problem::NotFolder(path) if path.contains('/') => errors.push(
                Diagnostic::error(
                    Code::FolderNotOwned,
                    format!("`{}` is a file, where svcc writes a folder", at(path)),
                )
                .help("move the file elsewhere or delete it, then build again"),
            ),
            _ => {}
        }
    }
    let built: BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for (folder, strangers) in scan::foreign(found, &built) {
        let count = strangers.len();
        let mut listed = strangers.iter().take(5).map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        if count > 5 {
            listed.push_str(&format!(" and {} more", count - 5));
        }
        errors.push(
            Diagnostic::error(Code::FolderNotOwned, format!("`{}` holds files svcc did not write: {listed}", at(&folder)))
                .help(format!(
                    "svcc replaces this folder as a whole; move what you want to keep elsewhere, then delete the folder (or create an empty `{}/{}` to let svcc replace it) and build again",
                    at(&folder),
                    scan::MARKER
                ))
                .note(format!(
                    "svcc marks each folder it writes with a `{}` file; a folder without one is replaced only when every file in it is one svcc writes",
                    scan::MARKER
                )),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
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

/// Finish or undo a swap a killed build left in `root` (SVC0913, a warning).
fn recover(root: &Path, shown: &str) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let what = match swap::recover(root) {
        Ok(None) => return Ok(Vec::new()),
        Ok(Some(swap::Recovered::Forward)) => "finished: every folder of that build is in place",
        Ok(Some(swap::Recovered::Back)) => "undone: the folders it had replaced were put back",
        Ok(Some(swap::Recovered::Lost)) => "abandoned: its staging folder was gone, so some folders may be old",
        Err(swap::Unrecoverable::Link(path)) => {
            let at = format!("{}/{path}", shown.trim_end_matches('/'));
            let d = scan::symlink_diagnostic(&at, &root.join(&path)).note(format!(
                "`{}` names it: svcc was about to finish an interrupted build; nothing was changed",
                swap::JOURNAL
            ));
            return Err(vec![d]);
        }
        Err(swap::Unrecoverable::Unreadable(why)) => {
            let d = Diagnostic::error(Code::WriteFailed, format!("cannot recover the interrupted build in `{shown}`: {why}"))
                .help(format!(
                    "check the folders in `{shown}`, delete `{}` and any `{STAGING_PREFIX}…` folder in it, then build again",
                    swap::JOURNAL
                ));
            return Err(vec![d]);
        }
    };
    let d = Diagnostic::warning(
        Code::InterruptedBuild,
        format!("a build into `{shown}` was interrupted while swapping folders in; its swap was {what}"),
    )
    .help("nothing to do: this build then wrote its own output as usual");
    Ok(vec![d])
}

/// Remove the staging folders builds into `root` abandoned (the caller
/// holds the lock, so no build is using them). Only folders: a link named
/// like one is removed as a link, never followed.
fn clean_inside(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Remove the staging folders that first builds of `root` left beside it
/// when killed (`.svcc-staging-<name>-<pid>-<time>`). A first build holds a
/// lock on its staging folder while it writes, so one that can be locked
/// is abandoned; it is removed while locked.
fn clean_beside(root: &Path) {
    let (Some(parent), Some(name)) = (root.parent(), root.file_name()) else { return };
    let prefix = format!("{STAGING_PREFIX}{}-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let ours = n.strip_prefix(&prefix).and_then(|rest| rest.split_once('-')).is_some_and(|(pid, time)| {
            [pid, time].iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        });
        if !ours || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if let Ok(handle) = std::fs::File::open(e.path())
            && handle.try_lock().is_ok()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The artifacts of every owned folder whose files under `root` differ from
/// the build's (added, removed or changed files), lack the marker, or could
/// not all be read.
fn changed_folders(root: &Path, found: &scan::Found, artifacts: &[Artifact]) -> Vec<Artifact> {
    let mut wanted: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
    for a in artifacts {
        wanted.entry(svcc::diff::owning_folder(&a.path)).or_default().push(a);
    }
    let mut out = Vec::new();
    for (folder, files) in wanted {
        let same = found.marked.contains(folder)
            && found.problems_in(folder).next().is_none()
            && found.files_in(folder).count() == files.len()
            && files.iter().all(|a| found.files.get(&a.path) == Some(&a.contents))
            && files.iter().filter(|a| a.path.ends_with(".sh")).all(|a| is_executable(&root.join(&a.path)));
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
        std::fs::symlink_metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
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

/// A new staging folder beside the output folder, locked so that no other
/// build takes it for abandoned. A build cleaning up could lock and remove
/// it between its creation and the lock: then it no longer is the folder
/// at that path, and another one is made.
fn staging_beside(parent: &Path, name: &str) -> std::io::Result<(PathBuf, Option<std::fs::File>)> {
    for _ in 0..16 {
        let path = parent.join(format!("{STAGING_PREFIX}{name}-{}", staging_suffix()));
        std::fs::create_dir(&path)?;
        // Another build's cleanup may take the folder before it is locked:
        // then try another.
        let handle = match std::fs::File::open(&path) {
            Ok(h) => h,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        match handle.lock() {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok((path, None)),
            Err(e) => return Err(e),
        }
        if same_file(&path, &handle) {
            return Ok((path, Some(handle)));
        }
    }
    Err(std::io::Error::other("another build kept removing the staging folder"))
}

/// Whether `path` (not followed) is the file `handle` has open.
fn same_file(path: &Path, handle: &std::fs::File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::symlink_metadata(path), handle.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = handle;
        path.is_dir()
    }
}

/// Write every artifact under `root` (a staging folder this build
/// created), creating folders as needed, and a marker in each owned
/// folder. Services are staged on the compiling workers, in parallel.
fn write_files(root: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    let mut parents: BTreeSet<&str> = BTreeSet::new();
    for a in artifacts {
        let parent = a.path.rsplit_once('/').map_or("", |(f, _)| f);
        if parents.insert(parent) {
            std::fs::create_dir_all(root.join(parent))?;
        }
    }
    for a in artifacts {
        let path = root.join(&a.path);
        std::fs::write(&path, &a.contents)?;
        #[cfg(unix)]
        if a.path.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    for f in svcc::diff::owned_folders(artifacts) {
        std::fs::write(root.join(&f).join(scan::MARKER), scan::MARKER_TEXT)?;
    }
    Ok(())
}

/// Replace the file at `path` with `bytes` atomically (`svcc fmt`): a new
/// file in the same folder, with the old one's permissions, flushed, then
/// renamed over it. Never writes through a link at `path`: the caller
/// refuses those, and the rename replaces a link rather than following it.
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let perms = std::fs::symlink_metadata(path)?.permissions();
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = path.with_file_name(format!(".{}.svcc-{}", name.to_string_lossy(), staging_suffix()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(perms)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
