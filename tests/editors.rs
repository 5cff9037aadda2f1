//! The editor set-ups of docs/editors.md, checked:
//!
//! - one end-to-end run through a real editor: headless Neovim (Debian's
//!   package, installed by .ci/run) opens a spec with svcc's language
//!   server attached through its built-in client, and writes the
//!   diagnostics it received (tests/editors/nvim_diagnostics.lua). Without
//!   `nvim` on PATH the test says so and passes, unless
//!   `SVCC_REQUIRE_NVIM=1` (set by .ci/run once it installed Neovim);
//! - the VS Code extension's TextMate grammar passes its tests
//!   (`editors/vscode/test/*.test.kdl`) under vscode-tmgrammar-test from
//!   npm (.ci/run installs it into `~/.cache/svcc-tmgrammar`; the test
//!   installs it the same way when missing, and skips only when npm
//!   cannot), and the extension names what the server serves.

use std::path::{Path, PathBuf};
use std::process::Command;

const VSCODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../editors/vscode");

/// The vscode-tmgrammar-test release the tests use (and .ci/run installs).
const TMGRAMMAR_TEST: &str = "vscode-tmgrammar-test@0.1.3";

fn tmgrammar_test() -> Option<PathBuf> {
    let prefix = std::env::var_os("SVCC_TMGRAMMAR_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/svcc-tmgrammar"));
    let bin = prefix.join("node_modules/.bin/vscode-tmgrammar-test");
    if bin.is_file() {
        return Some(bin);
    }
    let installed = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(TMGRAMMAR_TEST)
        .status()
        .is_ok_and(|s| s.success());
    (installed && bin.is_file()).then_some(bin)
}

#[test]
#[allow(clippy::print_stderr)] // say why the test is skipped
fn the_vscode_grammar_passes_its_tests() {
    let Some(bin) = tmgrammar_test() else {
        assert!(std::env::var("CI").is_err(), "vscode-tmgrammar-test is missing and npm could not install it");
        eprintln!("SKIPPED: vscode-tmgrammar-test is not installed and npm could not install it");
        return;
    };
    let o = Command::new(bin)
        .args(["-g", "syntaxes/svcc.tmLanguage.json", "test/*.test.kdl"])
        .current_dir(VSCODE)
        .output()
        .unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success() && out.contains("successfuly"), "{out}");
}

#[test]
fn the_vscode_extension_names_what_the_server_serves() {
    let pkg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(VSCODE).join("package.json")).unwrap()).unwrap();
    let grammar = pkg["contributes"]["grammars"][0]["path"].as_str().unwrap();
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(VSCODE).join(grammar)).unwrap()).unwrap();
    assert_eq!(g["scopeName"], pkg["contributes"]["grammars"][0]["scopeName"]);
    assert_eq!(pkg["contributes"]["commands"][0]["command"], svcc::lsp::SHOW_YAML);
    let js = std::fs::read_to_string(Path::new(VSCODE).join("extension.js")).unwrap();
    for needle in [svcc::lsp::SHOW_YAML, svcc::lsp::VIRTUAL_DOCUMENT, "\"lsp\"", "docsUrl"] {
        assert!(js.contains(needle), "extension.js does not use {needle}");
    }
    // The grammar's keywords are the language's structural nodes.
    let keywords = g.to_string();
    for n in svcc::decode::FILES.iter().map(|i| i.name).chain(["environment", "use", "patch", "pipeline"]) {
        assert!(keywords.contains(&format!("|{n}")) || keywords.contains(&format!("({n}|")), "{n}");
    }
}

#[test]
#[allow(clippy::print_stderr)] // say why the test is skipped
fn neovim_receives_the_diagnostics() {
    if Command::new("nvim").arg("--version").output().is_err() {
        assert!(std::env::var("SVCC_REQUIRE_NVIM").is_err(), "SVCC_REQUIRE_NVIM is set but `nvim` is not on PATH");
        eprintln!("SKIPPED: `nvim` is not installed (apt-get install neovim); the editor run is not checked");
        return;
    }
    let dir = std::env::temp_dir().join(format!("svcc-nvim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let spec = dir.join("api.kdl");
    std::fs::write(&spec, "service api {\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    replcas 2\n    probes { readiness \"/ready\" }\n}\n").unwrap();
    let out = dir.join("diagnostics.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/editors/nvim_diagnostics.lua");
    let o = Command::new("nvim")
        .args(["--headless", "--clean", "-c", &format!("luafile {script}")])
        .env("SVCC_BIN", env!("CARGO_BIN_EXE_svcc"))
        .env("SVCC_SPEC", &spec)
        .env("SVCC_OUT", &out)
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!("nvim wrote nothing: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    });
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["received"], true, "{v}");
    assert_eq!(v["client"], "svcc");
    let d = &v["diagnostics"][0];
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!((d["lnum"].as_i64(), d["col"].as_i64(), d["end_col"].as_i64()), (Some(3), Some(4), Some(11)), "{d}");
    assert_eq!(d["code"], "SVC0202");
    assert_eq!(d["severity"], 1);
    assert!(d["message"].as_str().unwrap().starts_with("unknown node `replcas`"), "{d}");
    let _ = std::fs::remove_dir_all(&dir);
}
