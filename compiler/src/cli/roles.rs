//! `svcc check` of a preset or an org defaults file: the file is checked
//! for what it is (the library's `Options::any_role`), and the services it
//! changes are checked with it, so a pre-commit hook that passes only the
//! changed preset still fails when that change breaks a service.
//!
//! The services a file affects: for `_defaults.kdl`, the services in its
//! folder and below; for a preset, the services of its repository (found
//! as `svcc build ROOT` finds them) that use it, directly or through other
//! presets. Both are found by compiling the candidates and keeping those
//! whose imports name the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use svcc::repo::{Repo, find_root};
use svcc::{Compiled, Role, Unit};

use super::inputs::{collect_inputs, read_units};

/// The preset and defaults files among `results`, by the name a service's
/// imports give them, with the folder their services are found in.
fn changed_files(repo: &Repo, results: &[Compiled]) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for r in results.iter().filter(|r| r.role != Role::Service) {
        let path = Path::new(&r.file.name);
        let preset = r.role == Role::Preset;
        let (Some(name), Some(dir)) = (repo.import_name(path, preset), folder_of(path)) else {
            continue;
        };
        let search = if preset { find_root(&dir, &dir) } else { dir };
        out.push((name, search));
    }
    out
}

fn folder_of(path: &Path) -> Option<PathBuf> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    parent.canonicalize().ok()
}

/// `p` relative to the current folder when below it (as the user names
/// files), else as it is.
fn shown(p: &Path, cwd: &Path) -> PathBuf {
    match p.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => p.to_path_buf(),
    }
}

/// The services (not among `inputs`) that the preset and defaults files
/// in `results` affect, read and ready to compile; `keep` then filters the
/// compiled candidates down to those that really read one of the files.
pub(super) fn affected(repo: &mut Repo, inputs: &[Unit], results: &[Compiled]) -> (Vec<Unit>, BTreeSet<String>) {
    let changed = changed_files(repo, results);
    if changed.is_empty() {
        return (Vec::new(), BTreeSet::new());
    }
    let names: BTreeSet<String> = changed.iter().map(|(n, _)| n.clone()).collect();
    let cwd = std::env::current_dir().and_then(|d| d.canonicalize()).unwrap_or_default();
    let mut folders: Vec<PathBuf> = changed.into_iter().map(|(_, f)| f).collect();
    folders.sort();
    // A folder inside another one is searched with it.
    folders.dedup_by(|inner, outer| inner.starts_with(outer));
    let folders: Vec<PathBuf> = folders.iter().map(|f| shown(f, &cwd)).collect();
    let given: BTreeSet<PathBuf> = inputs.iter().filter_map(|u| Path::new(&u.input.name).canonicalize().ok()).collect();
    // Problems of files nobody asked to check (unreadable, outside the
    // root) are not this run's to report.
    let mut ignored = Vec::new();
    let mut candidates = collect_inputs(&folders, &mut ignored);
    for c in &mut candidates {
        if let Ok(rel) = c.path.strip_prefix(".") {
            c.path = rel.to_path_buf();
        }
    }
    candidates.retain(|c| c.path.canonicalize().is_ok_and(|p| !given.contains(&p)));
    (read_units(repo, &candidates, &mut ignored), names)
}

/// Whether a compiled candidate read one of the changed files.
pub(super) fn uses_any(c: &Compiled, names: &BTreeSet<String>) -> bool {
    c.imports.iter().any(|f| names.contains(&f.name))
}

/// Say, on each problem of a service checked because of a changed preset
/// or defaults file, which service it is and why it was checked.
pub(super) fn explain_why(c: &mut Compiled, names: &BTreeSet<String>) {
    let used: Vec<String> =
        c.imports.iter().filter(|f| names.contains(&f.name)).map(|f| format!("`{}`", f.name)).collect();
    let service = c.service.as_ref().map_or(String::new(), |(n, _)| format!("service `{n}` in "));
    for d in &mut c.diagnostics {
        d.notes.push(format!("{service}`{}`, checked because it uses {}", c.file.name, used.join(", ")));
    }
}
