//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod patchgen;

#[allow(unused_imports)] // not every test target quotes KDL
pub use patchgen::kdl_string;

use std::path::{Path, PathBuf};

use svcc::diagnostic::render::{self, Format, HumanStyle};
use svcc::{Compiled, Input, Options};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Files under `dir` (relative to the repository root) with extension `ext`, sorted.
pub fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root().join(dir), ext, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// Every file below `dir` (an absolute path), sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Path relative to the repository root, with `/` separators.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// The file system as svcc reads it (`svcc::repo`, the same confined
/// reader as the CLI), with names relative to the repository root, as in the
/// snapshots.
pub fn loader() -> svcc::repo::Repo {
    svcc::repo::Repo::new(&root()).unwrap()
}

/// Is this `*.kdl` file a service (not an org defaults file or a preset)?
/// The same rule as `svcc build DIR`.
pub fn is_service(p: &Path) -> bool {
    !p.file_name().unwrap().to_string_lossy().starts_with('_') && !p.components().any(|c| c.as_os_str() == "presets")
}

/// The service specs under `dir`.
pub fn services(dir: &str) -> Vec<PathBuf> {
    files(dir, "kdl").into_iter().filter(|p| is_service(p)).collect()
}

/// The org defaults files that apply to `path` (outermost first), up to the repository root.
pub fn defaults_for(path: &Path) -> Vec<Input> {
    let (defaults, refused) = loader().defaults_for(Path::new(&rel(path)));
    assert!(refused.is_empty(), "{}: {refused:?}", rel(path));
    defaults
}

/// Compile a spec as `svcc build` does: with its org defaults and preset files.
pub fn compile_file(path: &Path, opts: &Options) -> Compiled {
    let mut repo = loader();
    let spec = PathBuf::from(rel(path));
    let input = repo.read_spec(&spec, &spec).unwrap_or_else(|e| panic!("{}: {e:?}", spec.display()));
    let (defaults, refused) = repo.defaults_for(&spec);
    assert!(refused.is_empty(), "{}: {refused:?}", spec.display());
    svcc::compile_with(&input, &defaults, &repo, opts)
}

pub fn compile_str(name: &str, text: &str, opts: &Options) -> Compiled {
    svcc::compile(&Input { name: name.to_string(), bytes: text.as_bytes().to_vec() }, opts)
}

pub fn render(c: &Compiled, format: Format) -> String {
    render::render(format, &svcc::file_diagnostics(std::slice::from_ref(c)), HumanStyle { color: false, width: 80 })
}

/// Options for building an example as a user would: every environment, and
/// the `--image-tag` of the `svcc build … --image-tag TAG` command that the
/// example's header comment shows (examples that pin tags show none).
pub fn example_options(path: &Path) -> Options {
    let text = std::fs::read_to_string(path).unwrap();
    let image_tag = text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
        .filter(|l| l.contains("svcc build"))
        .find_map(|l| l.split("--image-tag ").nth(1).map(|t| t.split_whitespace().next().unwrap().to_string()));
    Options { image_tag, require_tag: true, ..Options::default() }
}

/// The files that span the services of the example folder `dir` (its
/// `gitops` block: environment roots, Namespaces, the engine's objects), as
/// `svcc build DIR/services -o deploy --prune` writes them in a repository
/// whose root holds `deploy/`.
pub fn shared_files(dir: &str) -> Vec<svcc::emit::Artifact> {
    let deployed: Vec<svcc::gitops::Deployed> = services(dir)
        .iter()
        .filter_map(|p| {
            let c = compile_file(p, &example_options(p));
            assert!(!c.has_errors(), "{}", rel(p));
            c.deployed
        })
        .collect();
    svcc::gitops::artifacts(&deployed, Some("deploy")).unwrap_or_else(|e| panic!("{dir}: {e:?}"))
}

pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// xorshift64*: a tiny deterministic generator, so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }
    /// Up to `n` distinct items of `xs`, in a random order.
    pub fn some<'a, T: ?Sized>(&mut self, xs: &[&'a T], n: usize) -> Vec<&'a T> {
        let mut pool: Vec<&T> = xs.to_vec();
        let mut out = Vec::new();
        for _ in 0..self.below(n + 1).min(pool.len()) {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}

/// Fragments `mutate` inserts: the tokens where parsers go wrong.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "\"",
    "=",
    ";",
    "#true",
    "true",
    "-1",
    "99999999999999999999",
    "\"\"",
    "/-",
    "//",
    "\n",
    " ",
    "(t)",
    "port",
    "env",
    "autoscale",
    "environment x {",
    "probes {",
    "\u{e9}",
    "\u{0}",
    "r#\"",
    "\"\"\"",
    "1.5",
    "0x10",
    "\\",
];

/// One to four random edits of `src`: deletions, inserted tokens, changed
/// bytes, duplicated chunks, truncation.
pub fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let len = 1 + rng.below(12);
                let end = (at + len).min(v.len());
                let at = at.min(end);
                v.drain(at..end);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = (rng.next() & 0xff) as u8;
            }
            3 if v.len() > 2 => {
                let start = rng.below(v.len() - 1);
                let end = (start + 1 + rng.below(40)).min(v.len());
                let chunk: Vec<u8> = v[start..end].to_vec();
                let at = at.min(v.len());
                v.splice(at..at, chunk);
            }
            _ => {
                let n = rng.below(v.len().max(1));
                v.truncate(n);
            }
        }
    }
    v
}

/// Apply the words of a `// options:` fixture header (`build`, `env=NAME`,
/// `image-tag=TAG`) to `opts`.
pub fn apply_options(words: &str, opts: &mut Options) {
    for word in words.split_whitespace() {
        match word.split_once('=') {
            None if word == "build" => opts.require_tag = true,
            Some(("env", e)) => opts.environments.push(e.to_string()),
            Some(("image-tag", t)) => opts.image_tag = Some(t.to_string()),
            _ => panic!("unknown option `{word}`"),
        }
    }
}
