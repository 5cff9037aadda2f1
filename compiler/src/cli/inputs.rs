//! Reading specs: expanding folders, then reading each spec and its org
//! defaults through [`svcc::repo::Repo`], the confined reader the tests use
//! too (repository root, regular files only, the 1 MiB cap).

use std::path::{Path, PathBuf};

use svcc::Unit;
use svcc::diagnostic::render::FileDiagnostics;
use svcc::diagnostic::{Code, Diagnostic};
use svcc::repo::{Refusal, Repo};

/// A spec file to read, with the file or folder named on the command line
/// that it was found through (which bounds its repository root when there
/// is no `.git`).
pub(super) struct SpecPath {
    pub path: PathBuf,
    pub argument: PathBuf,
}

/// Expand folders into the service specs below them: `*.kdl` files, sorted,
/// except files whose name starts with `_` (org defaults, `_defaults.kdl`)
/// or `.`, and anything in a folder named `presets` or starting with `.`.
/// Symlinked folders are not followed, so a link loop cannot recurse forever.
pub(super) fn collect_inputs(paths: &[PathBuf], problems: &mut Vec<FileDiagnostics>) -> Vec<SpecPath> {
    collect(paths, problems, Walk::Services)
}

/// Expand folders into every `*.kdl` file below them, presets and org
/// defaults included (`svcc check`, `svcc fmt`); hidden files and folders
/// are still left out.
pub(super) fn collect_any(paths: &[PathBuf], problems: &mut Vec<FileDiagnostics>) -> Vec<SpecPath> {
    collect(paths, problems, Walk::Everything)
}

/// Which `*.kdl` files a folder stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    Services,
    Everything,
}

fn collect(paths: &[PathBuf], problems: &mut Vec<FileDiagnostics>, mode: Walk) -> Vec<SpecPath> {
    let mut files = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(p, &mut found, problems, mode);
                files.extend(found.into_iter().map(|path| SpecPath { path, argument: p.clone() }));
            }
            Ok(_) => files.push(SpecPath { path: p.clone(), argument: p.clone() }),
            Err(e) => problems.push(io_problem(p, Code::ReadFailed, format!("cannot read `{}`: {e}", p.display()))),
        }
    }
    // A file named twice (`a.kdl ./a.kdl`, or inside a folder also named) is one service, not two.
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone())));
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<FileDiagnostics>, mode: Walk) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(io_problem(dir, Code::ReadFailed, format!("cannot read folder `{}`: {e}", dir.display())));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let any = mode == Walk::Everything;
        if meta.is_dir() {
            if (any || name != "presets") && !name.starts_with('.') {
                walk(&p, files, problems, mode);
            }
        } else if p.extension().is_some_and(|x| x == "kdl") && (any || !name.starts_with('_')) && !name.starts_with('.')
        {
            files.push(p);
        }
    }
}

pub(super) fn io_problem(path: &Path, code: Code, message: String) -> FileDiagnostics {
    FileDiagnostics::without_source(Some(path.display().to_string()), vec![Diagnostic::error(code, message)])
}

/// The problem a refused or unreadable file gives.
pub(super) fn refused(path: &Path, why: &Refusal) -> FileDiagnostics {
    let shown = path.display();
    let d = Diagnostic::error(why.code(Code::ReadFailed), format!("cannot read `{shown}`: {}", why.reason()));
    let d = match why {
        Refusal::Io(_) => d,
        _ => d.help(why.help()),
    };
    FileDiagnostics::without_source(Some(shown.to_string()), vec![d])
}

/// The repository view the CLI reads through: names relative to the
/// current folder.
pub(super) fn repo(problems: &mut Vec<FileDiagnostics>) -> Option<Repo> {
    match Repo::in_current_dir() {
        Ok(r) => Some(r),
        Err(e) => {
            let d = Diagnostic::error(Code::ReadFailed, format!("cannot read the current folder: {e}"));
            problems.push(FileDiagnostics::without_source(None, vec![d]));
            None
        }
    }
}

/// Read each spec with the org defaults that apply to it.
pub(super) fn read_units(repo: &mut Repo, specs: &[SpecPath], problems: &mut Vec<FileDiagnostics>) -> Vec<Unit> {
    let mut units = Vec::new();
    for s in specs {
        let name = s.path.display().to_string();
        if let Err(why) = svcc::values::check_spec_path(&name) {
            let shown = name.escape_debug();
            let d = Diagnostic::error(Code::UnsafeFileName, format!("`{shown}` is not a usable spec file name: {why}"))
                .help("svcc writes the spec's path into the workflow and deploy.sh; rename the file");
            problems.push(FileDiagnostics::without_source(None, vec![d]));
            continue;
        }
        let input = match repo.read_spec(&s.path, &s.argument) {
            Ok(i) => i,
            Err(why) => {
                problems.push(refused(&s.path, &why));
                continue;
            }
        };
        let (defaults, refusals) = repo.defaults_for(&s.path);
        for (name, why) in refusals {
            problems.push(refused(Path::new(&name), &why));
        }
        units.push(Unit { input, defaults });
    }
    units
}
