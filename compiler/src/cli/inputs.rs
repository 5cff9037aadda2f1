//! Reading specs: expanding folders, the size cap, preset files and org
//! defaults.

use std::path::{Path, PathBuf};

use svcc::diagnostic::render::FileDiagnostics;
use svcc::diagnostic::{Code, Diagnostic};
use svcc::{Input, Loader};

/// Expand folders into the service specs below them: `*.kdl` files, sorted,
/// except files whose name starts with `_` (org defaults, `_defaults.kdl`)
/// and anything in a folder named `presets` or starting with `.`.
/// Symlinked folders are not followed, so a link loop cannot recurse forever.
pub(super) fn collect_inputs(paths: &[PathBuf], problems: &mut Vec<FileDiagnostics>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, problems),
            Ok(_) => files.push(p.clone()),
            Err(e) => problems.push(io_problem(p, Code::ReadFailed, format!("cannot read `{}`: {e}", p.display()))),
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<FileDiagnostics>) {
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
        if meta.is_dir() {
            if name != "presets" && !name.starts_with('.') {
                walk(&p, files, problems);
            }
        } else if p.extension().is_some_and(|x| x == "kdl") && !name.starts_with('_') {
            files.push(p);
        }
    }
}

pub(super) fn io_problem(path: &Path, code: Code, message: String) -> FileDiagnostics {
    FileDiagnostics::without_source(Some(path.display().to_string()), vec![Diagnostic::error(code, message)])
}

/// The name of an org defaults file (`docs/presets.md`).
pub const DEFAULTS_FILE: &str = "_defaults.kdl";

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

/// Reads preset files relative to the file that uses them.
pub(super) struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, from: &str, path: &str) -> Result<Input, String> {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let full = normalize(&base.join(path));
        match std::fs::read(&full) {
            Ok(bytes) => Ok(Input { name: full.display().to_string(), bytes }),
            Err(e) => Err(format!("cannot read `{}`: {e}", full.display())),
        }
    }
}

/// The org defaults files that apply to a spec: `_defaults.kdl` in its
/// folder and every folder above it, up to the repository root (the first
/// folder holding `.git`) or the file-system root; outermost first.
pub(super) struct DefaultsFinder {
    cwd: PathBuf,
    cache: std::collections::BTreeMap<PathBuf, Option<Input>>,
}

impl DefaultsFinder {
    pub(super) fn new() -> Self {
        DefaultsFinder { cwd: std::env::current_dir().unwrap_or_default(), cache: Default::default() }
    }

    pub(super) fn for_spec(&mut self, spec: &Path, problems: &mut Vec<FileDiagnostics>) -> Vec<Input> {
        let mut found = Vec::new();
        let dir = spec.parent().unwrap_or(Path::new(""));
        let abs = normalize(&self.cwd.join(dir));
        for d in abs.ancestors() {
            if !self.cache.contains_key(d) {
                let f = d.join(DEFAULTS_FILE);
                let input = match std::fs::read(&f) {
                    Ok(bytes) => {
                        let shown = f.strip_prefix(&self.cwd).map_or(f.clone(), Path::to_path_buf);
                        Some(Input { name: shown.display().to_string(), bytes })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        problems.push(io_problem(&f, Code::ReadFailed, format!("cannot read `{}`: {e}", f.display())));
                        None
                    }
                };
                self.cache.insert(d.to_path_buf(), input);
            }
            if let Some(Some(i)) = self.cache.get(d) {
                found.push(i.clone());
            }
            if d.join(".git").exists() {
                break;
            }
        }
        found.reverse();
        found
    }
}

/// Specs larger than this are refused without being read further: a
/// service spec is a few kilobytes, and the KDL parser reads roughly 40 KB/s
/// in a debug build (a 400 KB file took 10 s, 10 MB over 2 minutes), so a
/// stray huge file (or a device) must not stall a commit hook.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// Read a spec, at most [`MAX_SPEC_BYTES`] of it (so even an endless
/// stream stops). The error is a diagnostic ready to report.
pub(super) fn read_spec(path: &Path) -> Result<Vec<u8>, Box<FileDiagnostics>> {
    use std::io::Read;
    let shown = path.display();
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        return Err(Box::new(io_problem(path, Code::ReadFailed, format!("cannot read `{shown}`: {e}"))));
    }
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        let d = Diagnostic::error(
            Code::ReadFailed,
            format!("`{shown}` is larger than {} MiB, too large for a service spec", MAX_SPEC_BYTES >> 20),
        )
        .help("a spec describes one service in a few kilobytes; check that this is the file you meant");
        return Err(Box::new(FileDiagnostics::without_source(Some(shown.to_string()), vec![d])));
    }
    Ok(bytes)
}
