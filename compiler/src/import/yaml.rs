//! Reading the input: multi-document YAML into JSON values, each with the
//! span of its document, within bounds (untrusted input).

pub mod fast;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// A file larger than this is refused (SVC0807).
pub const MAX_FILE_BYTES: usize = 64 << 20;
/// A document larger than this is refused (SVC0807).
pub const MAX_DOC_BYTES: usize = 4 << 20;
/// More documents than this in one run are refused (SVC0807).
pub const MAX_DOCS: usize = 100_000;

/// One YAML document of an input file.
#[derive(Clone, Debug)]
pub struct Document {
    pub value: Value,
    /// The 1-based line of the document's first content line.
    pub line: usize,
    /// The document in its file (file id = the input's index).
    pub span: Span,
}

/// The documents of one file, or the diagnostics saying why not.
pub fn documents(file: u16, text: &str, budget: &mut usize) -> Result<Vec<Document>, Vec<Diagnostic>> {
    read_all(&[(file, text)], budget).pop().unwrap_or_else(|| Ok(Vec::new()))
}

/// What parsing one document's text gave.
type Parsed = Result<Vec<Value>, serde_saphyr::Error>;

/// One document's text: the fast path for the YAML tools write, else
/// serde-saphyr (which reads the rest and reports errors).
fn parse(chunk: &str) -> Parsed {
    fast::document(chunk).map_or_else(|| serde_saphyr::from_multiple(chunk), Ok)
}

/// The documents of several files, in order, as [`documents`] gives them
/// one file after the other (one budget for all). The documents are
/// parsed on every core first: parsing is most of the work and each
/// document is parsed alone anyway.
pub fn read_all(files: &[(u16, &str)], budget: &mut usize) -> Vec<Result<Vec<Document>, Vec<Diagnostic>>> {
    let split: Vec<Vec<(usize, usize)>> =
        files.iter().map(|(_, text)| if text.len() > MAX_FILE_BYTES { Vec::new() } else { chunks(text) }).collect();
    // At most as many documents as the budget allows are parsed ahead;
    // the rest (only ever read up to the first error) one at a time below.
    let jobs: Vec<&str> = split
        .iter()
        .zip(files)
        .flat_map(|(cs, (_, text))| cs.iter().map(move |&(a, b)| &text[a..b]))
        .take(*budget)
        .collect();
    let mut parsed: Vec<Option<Parsed>> =
        super::par_map(&jobs, |chunk: &&str| (chunk.len() <= MAX_DOC_BYTES).then(|| parse(chunk)))
            .into_iter()
            .map(Option::flatten)
            .collect();
    parsed.reverse();
    let mut ahead = parsed.len();
    files
        .iter()
        .zip(&split)
        .map(|(&(file, text), cs)| {
            // Every chunk of this file takes its parsed text (or none) from the
            // queue, even after an error, so the next file takes its own.
            let mut mine: Vec<Option<Parsed>> = cs
                .iter()
                .map(|_| {
                    if ahead > 0 {
                        ahead -= 1;
                        parsed.pop().flatten()
                    } else {
                        None
                    }
                })
                .collect();
            assemble(file, text, cs, &mut mine, budget)
        })
        .collect()
}

/// The documents of one file from its chunks and what parsing them gave
/// (`None`: parsed here).
fn assemble(
    file: u16,
    text: &str,
    chunks: &[(usize, usize)],
    parsed: &mut [Option<Parsed>],
    budget: &mut usize,
) -> Result<Vec<Document>, Vec<Diagnostic>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![too_large(file, "the file is larger than 64 MiB")]);
    }
    let mut out = Vec::new();
    let mut line = 1;
    for (&(start, end), ahead) in chunks.iter().zip(parsed) {
        let chunk = &text[start..end];
        let first = if chunk.starts_with("---") { line + 1 } else { line };
        line += chunk.bytes().filter(|&b| b == b'\n').count();
        let span = Span::in_file(file, start, end);
        if chunk.len() > MAX_DOC_BYTES {
            let at = Span::in_file(file, start, start);
            return Err(vec![too_large(file, "a document is larger than 4 MiB").at(at, "this document")]);
        }
        let values: Vec<Value> = match ahead.take().unwrap_or_else(|| parse(chunk)) {
            Ok(v) => v,
            Err(e) => return Err(vec![not_yaml(file, text, start, &e)]),
        };
        for mut value in values.into_iter().filter(|v| !v.is_null()) {
            // `kind: List` (kubectl get -o yaml) is read item by item.
            if value.get("kind").and_then(Value::as_str) == Some("List")
                && let Some(items) = value.get_mut("items").and_then(Value::as_array_mut)
            {
                for item in std::mem::take(items) {
                    push(&mut out, Document { value: item, line: first, span }, budget, file)?;
                }
                continue;
            }
            push(&mut out, Document { value, line: first, span }, budget, file)?;
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<Document>, d: Document, budget: &mut usize, file: u16) -> Result<(), Vec<Diagnostic>> {
    if *budget == 0 {
        let at = Span::in_file(d.span.file, d.span.start as usize, d.span.start as usize);
        return Err(vec![too_large(file, "the input holds more than 100,000 documents").at(at, "here")]);
    }
    *budget -= 1;
    out.push(d);
    Ok(())
}

fn too_large(file: u16, what: &str) -> Diagnostic {
    Diagnostic::error(Code::ImportTooLarge, format!("{what}: svcc import stops here"))
        .at(Span::in_file(file, 0, 0), "input")
        .help("import folders or namespaces one at a time")
}

fn not_yaml(file: u16, text: &str, chunk_start: usize, e: &serde_saphyr::Error) -> Diagnostic {
    let message = e.without_snippet().to_string();
    let first = message.lines().next().unwrap_or("invalid YAML").trim().to_string();
    let offset =
        e.location().map_or(chunk_start, |loc| chunk_start + offset_of(&text[chunk_start..], loc.line(), loc.column()));
    let offset = offset.min(text.len());
    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
    Diagnostic::error(Code::ImportNotYaml, format!("not YAML: {first}"))
        .at(Span::in_file(file, offset, end), "here")
        .help("Kubernetes manifests are YAML; fix the file or leave it out of the import")
}

/// Byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let col = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
            return offset + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// Byte ranges of the documents: split at lines that start with `---`, so
/// each object knows where it starts (a `---` inside a block scalar is
/// indented, so it never splits).
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    // Only lines that start with `---` can split, so only those are looked at.
    for (nl, _) in text.match_indices("\n---") {
        let at = nl + 1;
        let line = text[at..].split_inclusive('\n').next().unwrap_or("");
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t") {
            out.push((start, at));
            start = at;
        }
    }
    out.push((start, text.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_place() {
        let text = "a: 1\n---\nb: 2\n---\n# nothing\n---\nkind: List\nitems: [{c: 3}, {d: 4}]\n";
        let mut budget = 10;
        let docs = documents(0, text, &mut budget).unwrap();
        assert_eq!(docs.len(), 4);
        assert_eq!(&text[docs[1].span.start as usize..docs[1].span.end as usize], "---\nb: 2\n");
        assert_eq!(docs[3].value, serde_json::json!({"d": 4}));
        assert_eq!(budget, 6);
    }

    #[test]
    fn documents_split_at_separator_lines_only() {
        let text = "---\na: 1\n--- \nb: 2\n---\tx\nc: \"---\"\n  ---\n---x\n---\r\nd: 3\n---";
        let starts: Vec<usize> = chunks(text).iter().map(|c| c.0).collect();
        let want: Vec<usize> = [0, 9, 19, 45, 55].to_vec();
        assert_eq!(starts, want, "{:?}", starts.iter().map(|&s| &text[s..]).collect::<Vec<_>>());
    }

    #[test]
    fn errors_point_at_the_line() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n";
        let e = documents(0, text, &mut 10).unwrap_err();
        assert_eq!(e[0].code, Code::ImportNotYaml);
        assert!(e[0].primary.as_ref().unwrap().span.start >= 5);
    }

    #[test]
    fn too_many_documents_are_refused() {
        let e = documents(0, "a: 1\n---\nb: 2\n", &mut 1).unwrap_err();
        assert_eq!(e[0].code, Code::ImportTooLarge);
    }
}
