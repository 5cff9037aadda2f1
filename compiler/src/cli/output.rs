//! Writing the output folder: staging, the swap of whole folders, and
//! reading back what a build owns.

use std::path::{Path, PathBuf};

use svcc::emit::Artifact;

/// The prefix of the staging folders [`write_output`] creates under `-o`.
const STAGING_PREFIX: &str = ".svcc-staging-";

/// Write artifacts under `dir`, replacing each `<service>/<environment>`
/// folder as a whole: everything is written into a staging folder first,
/// and only then is each folder swapped in with a rename. If anything fails
/// before the swap, the existing folders are untouched.
///
/// Builds into the same `dir` take turns (an exclusive lock on `dir`
/// itself), so concurrent builds cannot interleave their swaps; the last
/// one to finish wins, whole.
///
/// A `dir` that does not exist yet is written whole as a staging folder
/// beside it and renamed into place: one rename instead of a swap per
/// folder, which halves the system calls of a first build.
pub fn write_output(dir: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    // Nothing at all at that path (not even a dangling symlink, which a
    // rename would replace).
    if std::fs::symlink_metadata(dir).is_err() && write_fresh(dir, artifacts)? {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let lock = lock_folder(dir)?;
    if lock.is_some() {
        // No other build is writing: staging folders left here were
        // abandoned by a build that was killed.
        for e in std::fs::read_dir(dir)?.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    // Folders that already hold exactly these files are left as they are
    // (not even their modification times change): a rebuild after a change
    // to one service rewrites that service's folders only.
    let changed = changed_folders(dir, artifacts);
    if changed.is_empty() {
        return Ok(());
    }
    let staging = dir.join(format!("{STAGING_PREFIX}{}", staging_suffix()));
    let result = write_staged(dir, &staging, &changed);
    let _ = std::fs::remove_dir_all(&staging);
    drop(lock);
    result
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

/// The artifacts of every owned folder whose files under `dir` differ from
/// the build's (added, removed or changed files). A folder that cannot be
/// read counts as changed.
fn changed_folders(dir: &Path, artifacts: &[Artifact]) -> Vec<Artifact> {
    use std::collections::BTreeMap;
    let mut wanted: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
    for a in artifacts {
        wanted.entry(svcc::diff::owning_folder(&a.path)).or_default().push(a);
    }
    let mut out = Vec::new();
    for (folder, files) in wanted {
        let same = read_owned(dir, &[folder.to_string()]).is_ok_and(|have| {
            have.len() == files.len() && files.iter().all(|a| have.get(&a.path) == Some(&a.contents))
        }) && files.iter().filter(|a| a.path.ends_with(".sh")).all(|a| is_executable(&dir.join(&a.path)));
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
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
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

/// Create `dir` with every artifact: `Ok(true)` when done, `Ok(false)` when
/// another build created `dir` meanwhile (the caller then swaps folders in
/// as for any existing output).
fn write_fresh(dir: &Path, artifacts: &[Artifact]) -> std::io::Result<bool> {
    let Some(name) = dir.file_name() else { return Ok(false) };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = parent.join(format!("{STAGING_PREFIX}{}-{}", name.to_string_lossy(), staging_suffix()));
    match write_files(&staging, artifacts).and_then(|()| std::fs::rename(&staging, dir)) {
        Ok(()) => Ok(true),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            if dir.exists() { Ok(false) } else { Err(e) }
        }
    }
}

/// Write every artifact under `root`, creating folders as needed.
fn write_files(root: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    // Each distinct parent folder is created once.
    let mut parents: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for a in artifacts {
        let parent = a.path.rsplit_once('/').map_or("", |(f, _)| f);
        if parents.insert(parent) {
            std::fs::create_dir_all(root.join(parent))?;
        }
    }
    // Writing thousands of small files is syscall-bound: use both cores.
    let write_half = |part: &[Artifact]| -> std::io::Result<()> {
        for a in part {
            let path = root.join(&a.path);
            std::fs::write(&path, &a.contents)?;
            #[cfg(unix)]
            if a.path.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        Ok(())
    };
    let (first, second) = artifacts.split_at(artifacts.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| write_half(second));
        let mine = write_half(first);
        mine.and(other.join().unwrap_or_else(|_| Err(std::io::Error::other("a writer thread panicked"))))
    })
}

fn write_staged(dir: &Path, staging: &Path, artifacts: &[Artifact]) -> std::io::Result<()> {
    write_files(staging, artifacts)?;
    // Whole `<service>/<environment>` and `<service>/pipeline` folders, even
    // when their files sit in subfolders (`.github/workflows/`).
    let folders = svcc::diff::owned_folders(artifacts);
    // Everything is written; now swap the folders in. If a rename fails
    // part-way, undo the swaps already made so the output is as it was.
    let old = staging.join(".old");
    std::fs::create_dir_all(&old)?;
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut placed: Vec<PathBuf> = Vec::new();
    let mut swap = || -> std::io::Result<()> {
        for (i, folder) in folders.iter().enumerate() {
            let target = dir.join(folder);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if target.exists() {
                let keep = old.join(i.to_string());
                std::fs::rename(&target, &keep)?;
                aside.push((target.clone(), keep));
            }
            std::fs::rename(staging.join(folder), &target)?;
            placed.push(target);
        }
        Ok(())
    };
    let result = swap();
    if result.is_err() {
        for p in placed.iter().rev() {
            let _ = std::fs::remove_dir_all(p);
        }
        for (target, keep) in aside.iter().rev() {
            let _ = std::fs::rename(keep, target);
        }
    }
    result
}

pub(super) fn read_owned(
    dir: &Path,
    folders: &[String],
) -> std::io::Result<std::collections::BTreeMap<String, String>> {
    fn walk_files(base: &Path, rel: &str, out: &mut std::collections::BTreeMap<String, String>) -> std::io::Result<()> {
        let here = base.join(rel);
        let entries = match std::fs::read_dir(&here) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = format!("{rel}/{name}");
            if e.file_type()?.is_dir() {
                walk_files(base, &path, out)?;
            } else {
                let bytes = std::fs::read(e.path())?;
                out.insert(path, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(())
    }
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        walk_files(dir, f, &mut out)?;
    }
    Ok(out)
}

/// The same files as [`read_owned`], as committed at a git revision.
pub(super) fn read_owned_at_ref(
    dir: &Path,
    rev: &str,
    folders: &[String],
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if o.status.success() {
            Ok(o.stdout)
        } else {
            Err(format!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim()))
        }
    };
    let mut out = std::collections::BTreeMap::new();
    for f in folders {
        let listing = git(&["ls-tree", "-r", "--name-only", "-z", rev, "--", f])?;
        for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let path = String::from_utf8_lossy(path).into_owned();
            let bytes = git(&["show", &format!("{rev}:./{path}")])?;
            out.insert(path, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(out)
}
