//! The fast KDL parser (`syntax::fast`) against the kdl crate: wherever the
//! fast parser returns a document, it must be the very document the kdl
//! crate returns. kdl's `PartialEq` ignores spans, so documents are compared
//! by their `Debug` text, which shows every field: spans, format strings,
//! value representations.

mod common;

use std::path::Path;

use common::{Rng, mutate};
use kdl::KdlDocument;
use svcc::syntax::fast;

/// What the two parsers made of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The fast parser built the document (and it equals kdl's).
    Fast,
    /// The fast parser gave up on a document the kdl crate accepts.
    FellBack,
    /// Neither accepts it.
    Invalid,
}

/// Parse `text` with both parsers and panic if the fast one returns a
/// document that is not exactly kdl's.
fn compare(name: &str, text: &str) -> Outcome {
    let fast = fast::parse(text);
    let kdl = text.parse::<KdlDocument>();
    match (fast, kdl) {
        (Some(f), Ok(k)) => {
            let (f, k) = (format!("{f:#?}"), format!("{k:#?}"));
            if f != k {
                let (line, (a, b)) =
                    f.lines().zip(k.lines()).enumerate().find(|(_, (a, b))| a != b).unwrap_or((0, ("", "")));
                panic!("{name}: documents differ at Debug line {line}:\n  fast: {a}\n  kdl:  {b}\ninput: {text:?}");
            }
            Outcome::Fast
        }
        (Some(_), Err(e)) => panic!("{name}: the fast parser accepts what kdl rejects ({e:?})\ninput: {text:?}"),
        (None, Ok(_)) => Outcome::FellBack,
        (None, Err(_)) => Outcome::Invalid,
    }
}

/// Run `f` on a thread with a large stack: the kdl parser recurses.
fn on_big_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        std::thread::Builder::new().stack_size(256 << 20).spawn_scoped(s, f).unwrap().join().unwrap();
    });
}

#[derive(Default)]
struct Tally {
    fast: usize,
    fell_back: Vec<String>,
    invalid: usize,
}

impl Tally {
    fn add(&mut self, name: &str, text: &str) -> Outcome {
        let o = compare(name, text);
        match o {
            Outcome::Fast => self.fast += 1,
            Outcome::FellBack => self.fell_back.push(name.to_string()),
            Outcome::Invalid => self.invalid += 1,
        }
        o
    }

    fn summary(&self) -> String {
        format!("{} fast, {} fell back, {} invalid", self.fast, self.fell_back.len(), self.invalid)
    }
}

/// The ```kdl blocks of the Markdown files under `docs/` and at the top.
fn doc_blocks() -> Vec<(String, String)> {
    let mut mds = common::files("docs", "md");
    for top in ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"] {
        mds.push(common::root().join(top));
    }
    let mut out = Vec::new();
    for md in mds {
        let text = std::fs::read_to_string(&md).unwrap();
        let mut block: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut block {
                None if line.trim_start().starts_with("```kdl") => block = Some((i + 1, String::new())),
                Some((start, body)) if line.trim_start().starts_with("```") => {
                    out.push((format!("{}:{start}", common::rel(&md)), std::mem::take(body)));
                    block = None;
                }
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
                None => {}
            }
        }
    }
    out
}

/// Every KDL file of the repository, by repository-relative name.
fn kdl_files() -> Vec<(String, String)> {
    ["examples", "stdlib", "tests/fixtures"]
        .iter()
        .flat_map(|dir| common::files(dir, "kdl"))
        .map(|p| (common::rel(&p), String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()))
        .collect()
}

#[test]
#[allow(clippy::print_stderr)]
fn every_kdl_file_and_doc_block_parses_the_same() {
    on_big_stack(|| {
        let mut tally = Tally::default();
        for (name, text) in kdl_files().into_iter().chain(doc_blocks()) {
            let o = tally.add(&name, &text);
            let must_be_fast = name.starts_with("examples/") || name.starts_with("stdlib/");
            assert!(!must_be_fast || o == Outcome::Fast, "{name} did not take the fast path: {o:?}");
        }
        eprintln!("files and doc blocks: {}; fell back: {:?}", tally.summary(), tally.fell_back);
        assert!(tally.fast > 250, "{}", tally.summary());
    });
}

/// Small pieces of KDL, valid and not, that the generator strings together.
mod pieces {
    pub const SPACE: &[&str] =
        &[" ", "  ", "\t", " /* c */ ", "/*a/*b*/c*/", " \\\n  ", " \\ // why\n ", "\u{a0}", "\u{3000}"];
    pub const LINE: &[&str] =
        &["\n", "\r\n", "\n\n  ", "// note\n", "/* c */\n", "\n/-gone 1 { x }\n", "\r", "\u{2028}"];
    pub const TERMINATOR: &[&str] = &["\n", ";", " // end\n", "\r\n", "; ", "\u{85}", "\u{c}"];
    pub const NAME: &[&str] = &[
        "a",
        "node",
        "port",
        "x-y_z",
        "-",
        "+",
        ".",
        "-.x",
        "+x",
        "-inf",
        "\u{e9}t\u{e9}",
        "'q'",
        "a,b",
        "a.b",
        "_",
        "\"quoted name\"",
        "#\"raw\"#",
        "\"\"",
        "\"a\\tb\"",
    ];
    pub const VALUE: &[&str] = &[
        "0",
        "-1",
        "+7",
        "1_000",
        "0x1F",
        "0XdeadBEEF",
        "-0x10",
        "0o17",
        "-0O7_7",
        "0b1010",
        "0b1_0_",
        "1.5",
        "-0.0",
        "1e10",
        "1E-3",
        "2.5e+3",
        "1_0.0_1e1_0",
        "1e999",
        "170141183460469231731687303715884105727",
        "-170141183460469231731687303715884105727",
        "0x7fffffffffffffffffffffffffffffff",
        "#true",
        "#false",
        "#null",
        "#inf",
        "#-inf",
        "#nan",
        "\"s\"",
        "\"\"",
        "\"a\\nb\\t\\\"\\\\\\b\\f\\r\\s\\u{41}\\u{1F600}\"",
        "\"a\\   \n  b\"",
        "#\"raw \\n\"#",
        "##\"r\"#\"##",
        "#\"\"#",
        "\"\"\"\n  ml\n  \"\"\"",
        "\"\"\"\n\"\"\"",
        "\"\"\"\n    a\n\n      b \"q\" \\\"\"\"\n    \"\"\"",
        "\"\"\"\r\n\ta\r\n\t\"\"\"",
        "\"\u{e9}\u{2014}\u{1F600}\"",
        "bare",
        "(u8)5",
        "( t )\"x\"",
        "(\"q t\")1",
        "'single'",
    ];
    /// Errors, and valid constructs the fast parser leaves to kdl.
    pub const ODD: &[&str] = &[
        "true",
        "1x",
        "a\u{200e}",
        "r#",
        "170141183460469231731687303715884105728",
        "0x80000000000000000000000000000000",
        "1.000000000000000000000000000000000000000001",
        "\"\\u{110000}\"",
        "\"\\x\"",
        "#\"\"\"#",
        "\"\"\"\n  a\n b\n  \"\"\"",
        "\"\"\"\n  a \\\n  b\n  \"\"\"",
        "#\"\"\"\n  raw\n  \"\"\"#",
        "1.",
        ".5",
        "-.5",
        "0x",
        "#maybe",
        "a/b",
        "(t)(u)1",
        "{",
        "}",
        ";",
        "=",
        "(",
        "/*",
        "\"",
    ];
}

/// A piece of `pool`, or now and then an odd one.
fn word(rng: &mut Rng, pool: &[&'static str]) -> &'static str {
    if rng.chance(2) { rng.pick(pieces::ODD) } else { rng.pick(pool) }
}

/// A random KDL document built from [`pieces`], `depth` blocks deep at most.
fn generate(rng: &mut Rng, depth: usize) -> String {
    use pieces::*;
    let mut out = String::new();
    if rng.chance(30) {
        out.push_str(rng.pick(LINE));
    }
    let nodes = rng.below(4);
    for i in 0..nodes {
        if i > 0 {
            out.push_str(rng.pick(TERMINATOR));
        }
        if rng.chance(20) {
            out.push_str(rng.pick(LINE));
        }
        if rng.chance(10) {
            out.push_str("/-");
        }
        if rng.chance(15) {
            out.push_str(&format!("({})", word(rng, NAME)));
        }
        out.push_str(word(rng, NAME));
        for _ in 0..rng.below(4) {
            out.push_str(rng.pick(SPACE));
            if rng.chance(10) {
                out.push_str("/-");
                if rng.chance(30) {
                    out.push_str(rng.pick(SPACE));
                }
            }
            if rng.chance(30) {
                out.push_str(word(rng, NAME));
                out.push_str(rng.pick(&["=", " = ", "= ", "/* c */="]));
            }
            out.push_str(word(rng, VALUE));
        }
        if rng.chance(10) {
            out.push_str(" /-{ gone }");
        }
        if depth > 0 && rng.chance(40) {
            out.push_str(rng.pick(&[" {", "{", " {\n", " { "]));
            out.push_str(&generate(rng, depth - 1));
            out.push('}');
        }
        if rng.chance(10) {
            out.push_str(rng.pick(&[" /-{ x }", " /- { }", " "]));
        }
    }
    if nodes > 0 && rng.chance(40) {
        out.push_str(rng.pick(TERMINATOR));
    }
    if rng.chance(20) {
        out.push_str(rng.pick(LINE));
    }
    out
}

/// Lines `from..to` of `text` (a piece of a real file, so that the kdl
/// crate, slow in a debug build, parses small inputs).
fn window(rng: &mut Rng, text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let from = rng.below(lines.len());
    let to = (from + 1 + rng.below(12)).min(lines.len());
    lines[from..to].concat()
}

#[test]
#[allow(clippy::print_stderr)]
fn generated_and_mutated_inputs_parse_the_same() {
    on_big_stack(|| {
        let mut rng = Rng(0xfa57_4d1e_0000_0001);
        let mut generated = Tally::default();
        for i in 0..5_000 {
            let mut text = generate(&mut rng, 3);
            if rng.chance(25) {
                text = String::from_utf8_lossy(&mutate(&mut rng, text.as_bytes())).into_owned();
            }
            generated.add(&format!("generated #{i}"), &text);
        }
        let files = kdl_files();
        let mut mutated = Tally::default();
        for i in 0..3_000 {
            let (name, text) = &files[rng.below(files.len())];
            let piece = window(&mut rng, text);
            let text = if rng.chance(75) { mutate(&mut rng, piece.as_bytes()) } else { piece.into_bytes() };
            mutated.add(&format!("{name} mutation #{i}"), &String::from_utf8_lossy(&text));
        }
        eprintln!("generated: {}; mutated: {}", generated.summary(), mutated.summary());
        // Both sets must exercise the fast path, not just the fallback.
        assert!(generated.fast > 2_500, "generated: {}", generated.summary());
        assert!(mutated.fast > 600, "mutated: {}", mutated.summary());
    });
}

#[test]
fn the_fast_path_keeps_spans_that_diagnostics_use() {
    let text = std::fs::read_to_string(Path::new(&common::root()).join("examples/backend-api/service.kdl")).unwrap();
    let doc = fast::parse(&text).expect("the example takes the fast path");
    let service = &doc.nodes()[0];
    let image = &service.children().unwrap().nodes()[0];
    let at = |s: miette::SourceSpan| &text[s.offset()..s.offset() + s.len()];
    assert_eq!(at(image.name().span()), "image");
    assert_eq!(at(image.entries()[1].span()), "pull-policy=\"Always\"");
    assert_eq!(image.entries()[1].format().unwrap().value_repr, "\"Always\"");
}

/// Characters that start, end or separate KDL tokens.
const ALPHABET: &[char] = &[
    'a', '1', '0', 'x', 'e', '.', '+', '-', '_', ' ', '\n', '\r', '{', '}', ';', '=', '"', '#', '/', '*', '(', ')',
    '\\',
];

#[test]
#[allow(clippy::print_stderr)]
fn every_short_string_parses_the_same() {
    // Longer runs by hand: FAST_KDL_EXHAUSTIVE_LEN=5 cargo test --test fast_kdl short
    let max_len = std::env::var("FAST_KDL_EXHAUSTIVE_LEN").map_or(3, |v| v.parse().unwrap());
    on_big_stack(|| {
        let mut tally = Tally::default();
        let mut text = String::new();
        let mut digits = vec![0usize; 0];
        while digits.len() <= max_len {
            text.clear();
            text.extend(digits.iter().map(|&d| ALPHABET[d]));
            tally.add("short string", &text);
            // Next string: count in base ALPHABET.len().
            match digits.iter().rposition(|&d| d + 1 < ALPHABET.len()) {
                Some(i) => {
                    digits[i] += 1;
                    digits[i + 1..].fill(0);
                }
                None => digits = vec![0; digits.len() + 1],
            }
        }
        eprintln!("short strings: {}", tally.summary());
    });
}

/// Compare the parsers on every file of a folder, such as a fuzz corpus:
///   FAST_KDL_CORPUS=fuzz/corpus/kdl_frontend cargo test --test fast_kdl corpus -- --nocapture
#[test]
#[allow(clippy::print_stderr)]
fn corpus_from_the_environment_parses_the_same() {
    let Ok(dir) = std::env::var("FAST_KDL_CORPUS") else { return };
    on_big_stack(|| {
        let mut tally = Tally::default();
        for entry in std::fs::read_dir(common::root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if let Ok(text) = std::fs::read_to_string(&path) {
                tally.add(&path.display().to_string(), &text);
            }
        }
        eprintln!("corpus: {}", tally.summary());
    });
}
