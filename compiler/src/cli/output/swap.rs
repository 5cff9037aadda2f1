//! The swap of many folders into the output folder, made crash-safe with a
//! journal.
//!
//! Before the first rename, `DIR/.svcc-journal` names the staging folder
//! and every folder to swap (written to a temporary file, flushed to disk,
//! renamed into place). Each folder `i` is then swapped in two renames: the
//! old folder (if any) to `STAGING/.old/i`, the new one from
//! `STAGING/<service>/<environment>` into place. Once every folder is in
//! place, the journal is removed, and with it the last reason to keep the
//! staging folder. Until then the old output is recoverable: a build that
//! finds a journal (under the output folder's lock, before anything else)
//! finishes the swap when every folder is either in place or still staged,
//! and otherwise puts the old folders back.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::STAGING_PREFIX;

/// The journal's name in the output folder.
pub const JOURNAL: &str = ".svcc-journal";
const JOURNAL_NEW: &str = ".svcc-journal.new";
const HEADER: &str = "svcc-journal 1";
/// Where the old folders go, inside the staging folder.
const ASIDE: &str = ".old";

/// A swap in progress: the staging folder's name (in the output folder) and
/// the folders it swaps in, in order, each with whether an old folder was
/// there to move aside.
#[derive(Debug, PartialEq)]
pub struct Journal {
    pub staging: String,
    pub folders: Vec<(String, bool)>,
}

impl Journal {
    fn text(&self) -> String {
        let mut s = format!("{HEADER}\nstaging {}\n", self.staging);
        for (f, had_old) in &self.folders {
            s.push_str(&format!("{} {f}\n", if *had_old { "replace" } else { "create" }));
        }
        s
    }

    /// Parse a journal; `None` unless every line is well formed and every
    /// name stays inside the output folder.
    fn parse(text: &str) -> Option<Journal> {
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let staging = lines.next()?.strip_prefix("staging ")?.to_string();
        let plain = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\', '\0']);
        if !staging.starts_with(STAGING_PREFIX) || staging.contains(['/', '\\', '\0']) {
            return None;
        }
        let mut folders = Vec::new();
        for line in lines {
            let (had_old, f) = match line.split_once(' ')? {
                ("replace", f) => (true, f),
                ("create", f) => (false, f),
                _ => return None,
            };
            let (a, b) = f.split_once('/')?;
            if !plain(a) || !plain(b) {
                return None;
            }
            folders.push((f.to_string(), had_old));
        }
        Some(Journal { staging, folders })
    }
}

/// Test hook, not a feature: with `SVCC_TEST_CRASH_AFTER_RENAMES=N` in the
/// environment, svcc aborts (as if killed) just before the rename after the
/// first N of a swap or of a first build's final rename. Only
/// `tests/cli.rs` sets it, to prove that the next build recovers.
pub struct CrashHook {
    left: Option<u64>,
}

impl CrashHook {
    pub fn from_env() -> CrashHook {
        CrashHook { left: std::env::var("SVCC_TEST_CRASH_AFTER_RENAMES").ok().and_then(|v| v.parse().ok()) }
    }

    pub fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        match &mut self.left {
            Some(0) => std::process::abort(),
            Some(n) => *n -= 1,
            None => {}
        }
        std::fs::rename(from, to)
    }
}

/// Flush a folder's entries (a rename or a new file in it) to disk, where
/// the system allows opening a folder.
fn sync_folder(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

fn write_journal(dir: &Path, journal: &Journal) -> std::io::Result<()> {
    let tmp = dir.join(JOURNAL_NEW);
    // Whatever sits there (a leftover, or a committed link) goes first: a
    // new file is created, never opened through a link.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    f.write_all(journal.text().as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(JOURNAL))?;
    sync_folder(dir);
    Ok(())
}

fn remove_journal(dir: &Path) -> std::io::Result<()> {
    std::fs::remove_file(dir.join(JOURNAL))?;
    sync_folder(dir);
    Ok(())
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// Create `dir/<service>` when needed (a single level: `dir` exists and the
/// caller checked that no link sits at `<service>`).
fn create_parent(dir: &Path, folder: &str) -> std::io::Result<()> {
    let Some((service, _)) = folder.split_once('/') else { return Ok(()) };
    match std::fs::create_dir(dir.join(service)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Swap `folders`, all fully written under `dir/staging`, into `dir`. On an
/// error the swaps already made are undone. The caller removes the staging
/// folder afterwards.
pub fn swap(dir: &Path, staging: &str, folders: &[String]) -> std::io::Result<()> {
    let folders = folders.iter().map(|f| (f.clone(), exists(&dir.join(f)))).collect();
    let journal = Journal { staging: staging.to_string(), folders };
    std::fs::create_dir(dir.join(staging).join(ASIDE))?;
    write_journal(dir, &journal)?;
    let mut hook = CrashHook::from_env();
    let result = forward(dir, &journal, &mut hook);
    if result.is_err() {
        back(dir, &journal);
    }
    let removed = remove_journal(dir);
    result.and(removed)
}

/// Folder `i` of a journal: where it goes, where it is staged, where its
/// old folder is put aside, and whether there was one.
struct Slot {
    target: PathBuf,
    staged: PathBuf,
    aside: PathBuf,
    had_old: bool,
}

fn slot(dir: &Path, j: &Journal, i: usize) -> Slot {
    let staging = dir.join(&j.staging);
    let (folder, had_old) = &j.folders[i];
    Slot {
        target: dir.join(folder),
        staged: staging.join(folder),
        aside: staging.join(ASIDE).join(i.to_string()),
        had_old: *had_old,
    }
}

/// Put every staged folder in place, moving what is there aside first.
/// Folders already in place (no longer staged) are skipped, so this also
/// finishes an interrupted swap.
fn forward(dir: &Path, j: &Journal, hook: &mut CrashHook) -> std::io::Result<()> {
    for i in 0..j.folders.len() {
        let s = slot(dir, j, i);
        if !exists(&s.staged) {
            continue;
        }
        create_parent(dir, &j.folders[i].0)?;
        if exists(&s.target) && !exists(&s.aside) {
            hook.rename(&s.target, &s.aside)?;
        }
        hook.rename(&s.staged, &s.target)?;
    }
    Ok(())
}

/// Whether folder `i`'s new copy is in place: no longer staged, and, when
/// there was an old folder, that one is aside (the aside rename comes
/// first).
fn placed(s: &Slot) -> bool {
    !exists(&s.staged) && exists(&s.target) && (!s.had_old || exists(&s.aside))
}

/// Whether [`forward`] can finish a journal's swap: every folder is either
/// in place or still staged (and then not also both in place and aside).
fn can_finish(dir: &Path, j: &Journal) -> bool {
    (0..j.folders.len()).all(|i| {
        let s = slot(dir, j, i);
        placed(&s) || (exists(&s.staged) && !(exists(&s.target) && exists(&s.aside)))
    })
}

/// Undo the swaps of a journal, last folder first: each new folder in place
/// is removed and its old folder moved back. Best effort.
fn back(dir: &Path, j: &Journal) {
    for i in (0..j.folders.len()).rev() {
        let s = slot(dir, j, i);
        if placed(&s) {
            // Moved in from staging, so svcc's own folder, never a link.
            let _ = std::fs::remove_dir_all(&s.target);
        }
        if s.had_old && exists(&s.aside) && !exists(&s.target) {
            let _ = std::fs::rename(&s.aside, &s.target);
        }
    }
}

/// The first path a recovery of `j` would rename from or to (or through)
/// that is a symbolic link, relative to `dir`.
fn first_link(dir: &Path, j: &Journal) -> Option<String> {
    let mut paths = vec![format!("{}/{ASIDE}", j.staging)];
    for (i, (folder, _)) in j.folders.iter().enumerate() {
        let service = folder.split('/').next().unwrap_or(folder);
        paths.push(service.to_string());
        paths.push(folder.clone());
        paths.push(format!("{}/{service}", j.staging));
        paths.push(format!("{}/{folder}", j.staging));
        paths.push(format!("{}/{ASIDE}/{i}", j.staging));
    }
    paths.into_iter().find(|p| std::fs::symlink_metadata(dir.join(p)).is_ok_and(|m| m.file_type().is_symlink()))
}

/// How an interrupted swap was resolved.
#[derive(Debug, PartialEq)]
pub enum Recovered {
    /// Every folder was in place or still staged: the swap was finished.
    Forward,
    /// A staged folder was missing: the old folders were put back.
    Back,
    /// The staging folder was gone: nothing to do but drop the journal.
    Lost,
}

/// Why a journal was left alone.
#[derive(Debug)]
pub enum Unrecoverable {
    /// A path it names (relative to the output folder) is a symbolic link.
    Link(String),
    /// It cannot be read, or is not a journal svcc wrote.
    Unreadable(String),
}

/// Finish or undo a swap interrupted by a crash, if `dir` holds a journal.
/// Call with the output folder locked, before anything else. Nothing is
/// changed when the journal is refused.
pub fn recover(dir: &Path) -> Result<Option<Recovered>, Unrecoverable> {
    let path = dir.join(JOURNAL);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Unrecoverable::Unreadable(format!("cannot read `{JOURNAL}`: {e}"))),
    };
    if meta.file_type().is_symlink() {
        return Err(Unrecoverable::Link(JOURNAL.to_string()));
    }
    let bad = || Unrecoverable::Unreadable(format!("`{JOURNAL}` is not a journal svcc wrote"));
    if !meta.is_file() || meta.len() > super::scan::MAX_OUTPUT_FILE_BYTES {
        return Err(bad());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Unrecoverable::Unreadable(format!("cannot read `{JOURNAL}`: {e}")))?;
    let Some(j) = Journal::parse(&text) else {
        return Err(bad());
    };
    let staging = dir.join(&j.staging);
    let outcome = match std::fs::symlink_metadata(&staging) {
        Ok(m) if m.is_dir() => {
            // A journal can be committed, with a staging folder full of
            // links: nothing is renamed unless no path it names is a link.
            if let Some(link) = first_link(dir, &j) {
                return Err(Unrecoverable::Link(link));
            }
            if can_finish(dir, &j) && forward(dir, &j, &mut CrashHook { left: None }).is_ok() {
                Recovered::Forward
            } else {
                back(dir, &j);
                Recovered::Back
            }
        }
        _ => Recovered::Lost,
    };
    remove_journal(dir).map_err(|e| Unrecoverable::Unreadable(format!("cannot remove `{JOURNAL}`: {e}")))?;
    if outcome != Recovered::Lost {
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_and_refuses_escapes() {
        let j = Journal {
            staging: format!("{STAGING_PREFIX}1-2"),
            folders: vec![("api/prod".to_string(), true), ("api/pipeline".to_string(), false)],
        };
        assert_eq!(Journal::parse(&j.text()), Some(j));
        for bad in [
            "svcc-journal 1\nstaging ../x\n",
            "svcc-journal 1\nstaging .svcc-staging-1/../..\n",
            "svcc-journal 1\nstaging .svcc-staging-1\ncreate ../etc\n",
            "svcc-journal 1\nstaging .svcc-staging-1\ncreate a/b/c\n",
            "svcc-journal 1\nstaging .svcc-staging-1\nreplace a/..\n",
            "svcc-journal 1\nstaging .svcc-staging-1\ncreate /etc\n",
            "svcc-journal 2\nstaging .svcc-staging-1\n",
            "svcc-journal 1\nstaging .svcc-staging-1\nfolder a/b\n",
        ] {
            assert_eq!(Journal::parse(bad), None, "{bad:?}");
        }
    }
}
