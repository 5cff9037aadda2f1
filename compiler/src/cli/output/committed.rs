//! Reading committed output for `build --check` and `svcc diff`: the owned
//! folders in the working tree (no link followed, regular files only, each
//! capped) or at a git revision.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svcc::diagnostic::{Code, Diagnostic};

use super::scan::{self, MARKER, MAX_OUTPUT_FILE_BYTES};

/// The output folder resolved once (a link at `dir` itself is followed),
/// or `None` when there is nothing there.
fn root_of(dir: &Path) -> Result<Option<PathBuf>, Vec<Diagnostic>> {
    if let Some(d) = super::linked_output(dir) {
        return Err(vec![d]);
    }
    match std::fs::canonicalize(dir) {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(vec![Diagnostic::error(Code::ReadFailed, format!("cannot read `{}`: {e}", dir.display()))]),
    }
}

/// The files of the owned `folders` under `dir` (path relative to `dir` →
/// text), markers left out. Every link, special file, oversized or
/// unreadable file is an error, all reported together.
pub fn read_committed(dir: &Path, folders: &[String]) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let Some(root) = root_of(dir)? else { return Ok(BTreeMap::new()) };
    let found = scan::scan(&root, folders, true);
    if found.problems.is_empty() {
        return Ok(found.files);
    }
    let shown = dir.display().to_string();
    Err(found.problems.iter().map(|p| p.diagnostic(&root, &shown)).collect())
}

/// Every `<service>/<environment>` folder under `dir` (`svcc diff --prune`).
pub fn committed_folders(dir: &Path) -> Result<Vec<String>, Vec<Diagnostic>> {
    let Some(root) = root_of(dir)? else { return Ok(Vec::new()) };
    let (folders, problems) = scan::all_folders(&root);
    if problems.is_empty() {
        return Ok(folders);
    }
    let shown = dir.display().to_string();
    Err(problems.iter().map(|p| p.diagnostic(&root, &shown)).collect())
}

/// The same files as [`read_committed`], as committed at a git revision.
/// Git stores a link as the text of its target, so nothing is followed;
/// links, submodules and blobs over the cap are still refused, as in the
/// working tree.
pub fn read_committed_at_ref(
    dir: &Path,
    rev: &str,
    folders: &[String],
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let fail = |message: String| vec![Diagnostic::error(Code::ReadFailed, message)];
    let git = |args: &[&str]| -> Result<Vec<u8>, Vec<Diagnostic>> {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| fail(format!("cannot run git: {e}")))?;
        if o.status.success() {
            Ok(o.stdout)
        } else {
            Err(fail(format!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim())))
        }
    };
    let shown = dir.display().to_string();
    let at = |path: &str| format!("{}/{path}", shown.trim_end_matches('/'));
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for f in folders {
        // `MODE TYPE OBJECT SIZE\tPATH`, NUL-terminated.
        let listing = git(&["ls-tree", "-r", "-l", "-z", rev, "--", f])?;
        for entry in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else { continue };
            if path == format!("{f}/{MARKER}") {
                continue;
            }
            let meta: Vec<&str> = meta.split_whitespace().collect();
            let size = meta.get(3).and_then(|s| s.parse::<u64>().ok());
            match (meta.first().copied(), size) {
                (Some("120000"), _) => problems.push(
                    Diagnostic::error(Code::SymlinkRefused, format!("`{}` is a symbolic link at `{rev}`", at(path)))
                        .help("svcc writes regular files only: replace the link with the generated file, or delete it"),
                ),
                (_, Some(n)) if n > MAX_OUTPUT_FILE_BYTES => problems.push(
                    Diagnostic::error(
                        Code::ReadFailed,
                        format!("`{}` at `{rev}` is larger than {} MiB", at(path), MAX_OUTPUT_FILE_BYTES >> 20),
                    )
                    .help("svcc did not write this file; remove it"),
                ),
                (_, Some(_)) => {
                    let bytes = git(&["show", &format!("{rev}:./{path}")])?;
                    out.insert(path.to_string(), String::from_utf8_lossy(&bytes).into_owned());
                }
                // A submodule (no size): not a file svcc writes.
                (_, None) => problems.push(
                    Diagnostic::error(Code::ReadFailed, format!("`{}` at `{rev}` is not a regular file", at(path)))
                        .help("svcc writes regular files only; remove it"),
                ),
            }
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}
