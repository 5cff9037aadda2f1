//! Reading committed output for `build --check` and `svcc diff`: the owned
//! folders in the working tree (no link followed, regular files only, each
//! capped) or at a git revision.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use svcc::diagnostic::{Code, Diagnostic};

use super::scan::{self, MARKER, MAX_OUTPUT_FILE_BYTES};

/// The output folder resolved once (a link at `dir` itself is refused),
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

/// Whether there is anything at `dir` (a folder, a file, a link).
pub fn exists(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok()
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

/// Every folder under `dir` that svcc owns (`<service>/<environment>` or
/// `<service>/pipeline` holding the `.svcc-owned` marker), sorted: what
/// `--prune` may remove. Links are never followed, so a linked folder is
/// not listed.
pub fn marked_folders(dir: &Path) -> Result<Vec<String>, Vec<Diagnostic>> {
    let Some(root) = root_of(dir)? else { return Ok(Vec::new()) };
    Ok(scan::marked_folders(&root))
}

/// One file of the output folder as committed at a revision.
struct Entry {
    mode: String,
    object: String,
    /// `None` for a submodule.
    size: Option<u64>,
}

/// The output folder as committed at a git revision: its files listed once
/// (`git ls-tree`), read on demand in one `git cat-file --batch`. Git
/// stores a link as the text of its target, so nothing is followed; links,
/// submodules and blobs over the cap are still refused, as in the working
/// tree. The folder need not exist in the working tree.
pub struct AtRef {
    rev: String,
    shown: String,
    top: PathBuf,
    /// Path relative to the output folder → entry.
    entries: BTreeMap<String, Entry>,
}

fn fail(message: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error(Code::ReadFailed, message)]
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Vec<Diagnostic>> {
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
}

impl AtRef {
    /// List `dir` at `rev`; `None` when the revision has nothing there.
    pub fn open(dir: &Path, rev: &str) -> Result<Option<AtRef>, Vec<Diagnostic>> {
        let shown = dir.display().to_string();
        let cwd = std::env::current_dir().map_err(|e| fail(format!("cannot read the current folder: {e}")))?;
        let top = git(&cwd, &["rev-parse", "--show-toplevel"])?;
        let top =
            PathBuf::from(String::from_utf8_lossy(&top).trim()).canonicalize().map_err(|e| fail(e.to_string()))?;
        let abs = super::resolve(dir).map_err(|e| fail(format!("cannot read `{shown}`: {e}")))?;
        let Ok(prefix) = abs.strip_prefix(&top) else {
            return Err(fail(format!("`{shown}` is not inside the git repository at `{}`", top.display())));
        };
        git(&top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
            .map_err(|_| fail(format!("`{rev}` is not a git revision of this repository")))?;
        let prefix = prefix.to_string_lossy().replace('\\', "/");
        let spec = if prefix.is_empty() { ".".to_string() } else { prefix.clone() };
        // `MODE TYPE OBJECT SIZE\tPATH`, NUL-terminated, paths from the top.
        let listing = git(&top, &["ls-tree", "-r", "-l", "-z", "--full-tree", rev, "--", &spec])?;
        let mut entries = BTreeMap::new();
        for entry in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else { continue };
            let rel = if prefix.is_empty() { Some(path) } else { path.strip_prefix(&format!("{prefix}/")) };
            let Some(rel) = rel else { continue };
            let meta: Vec<&str> = meta.split_whitespace().collect();
            let (Some(mode), Some(object)) = (meta.first(), meta.get(2)) else { continue };
            let size = meta.get(3).and_then(|s| s.parse::<u64>().ok());
            entries.insert(rel.to_string(), Entry { mode: mode.to_string(), object: object.to_string(), size });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(AtRef { rev: rev.to_string(), shown, top, entries }))
    }

    /// The owned folders at the revision (those holding a marker).
    pub fn marked_folders(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries
            .keys()
            .filter_map(|p| p.strip_suffix(&format!("/{MARKER}")))
            .filter(|f| {
                let shared = !f.contains('/') && svcc::gitops::is_shared_folder(f);
                (f.matches('/').count() == 1 || shared) && !f.starts_with('.')
            })
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The files of `folders` at the revision (markers left out), like
    /// [`read_committed`] in the working tree.
    pub fn read(&self, folders: &[String]) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
        let at = |path: &str| format!("{}/{path}", self.shown.trim_end_matches('/'));
        let rev = &self.rev;
        let mut wanted: Vec<(&str, &str)> = Vec::new();
        let mut problems = Vec::new();
        for (path, e) in &self.entries {
            if !folders.iter().any(|f| scan::within(path, f)) || path.ends_with(&format!("/{MARKER}")) {
                continue;
            }
            match (e.mode.as_str(), e.size) {
                ("120000", _) => problems.push(
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
                (_, Some(_)) => wanted.push((path, &e.object)),
                // A submodule (no size): not a file svcc writes.
                (_, None) => problems.push(
                    Diagnostic::error(Code::ReadFailed, format!("`{}` at `{rev}` is not a regular file", at(path)))
                        .help("svcc writes regular files only; remove it"),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let texts = self.cat(wanted.iter().map(|(_, o)| *o).collect())?;
        Ok(wanted.into_iter().map(|(p, _)| p.to_string()).zip(texts).collect())
    }

    /// The contents of `objects`, in order, from one `git cat-file --batch`.
    fn cat(&self, objects: Vec<&str>) -> Result<Vec<String>, Vec<Diagnostic>> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let failed = |e: std::io::Error| fail(format!("cannot run git cat-file: {e}"));
        let mut child = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(["cat-file", "--batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(failed)?;
        let request: String = objects.iter().map(|o| format!("{o}\n")).collect();
        let mut stdin = child.stdin.take().ok_or_else(|| fail("git cat-file has no input".into()))?;
        // Written from another thread: git answers while it reads.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let stdout = child.stdout.take().ok_or_else(|| fail("git cat-file has no output".into()))?;
        let mut reader = std::io::BufReader::new(stdout);
        let mut out = Vec::with_capacity(objects.len());
        for object in &objects {
            let mut header = String::new();
            reader.read_line(&mut header).map_err(failed)?;
            // `OBJECT TYPE SIZE`, then SIZE bytes and a newline.
            let size = header.split_whitespace().nth(2).and_then(|s| s.parse::<u64>().ok());
            let Some(size) = size.filter(|s| *s <= MAX_OUTPUT_FILE_BYTES) else {
                let _ = child.kill();
                return Err(fail(format!("git cannot read object {object} at `{}`: {}", self.rev, header.trim())));
            };
            let mut bytes = Vec::new();
            reader.by_ref().take(size + 1).read_to_end(&mut bytes).map_err(failed)?;
            bytes.truncate(usize::try_from(size).unwrap_or(usize::MAX));
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(out)
    }
}
