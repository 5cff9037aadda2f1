//! SARIF 2.1.0 as GitHub code scanning reads it (docs/cli.md, "sarif"):
//! one run, the driver with a rule for every code (its page as help), a
//! result per diagnostic that has a file, with the primary label as its
//! location and the secondary labels as related locations linked from the
//! message. Problems with no file at all (a bad command-line flag) are
//! tool execution notifications, not results. Columns count UTF-16 code
//! units (`columnKind`), as GitHub and SARIF viewers expect; `endColumn`
//! is the column just after the token.

use serde_json::{Value, json};

use super::FileDiagnostics;
use crate::diagnostic::{Code, Diagnostic, Label, Severity};
use crate::source::SourceFile;

/// Where the SARIF 2.1.0 schema lives (the one GitHub's docs name).
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// svcc's home, for `tool.driver.informationUri` (the domain its
/// annotations already use, `svcc.dev/allow-…`).
pub const INFORMATION_URI: &str = "https://svcc.dev";

/// The base a relative path is resolved against: the repository root, as
/// GitHub's `upload-sarif` resolves it (the checkout).
const SRCROOT: &str = "%SRCROOT%";

pub fn sarif(files: &[FileDiagnostics]) -> String {
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for f in files {
        for d in &f.diagnostics {
            match result(f, d) {
                Some(r) => results.push(r),
                None => notifications.push(notification(d)),
            }
        }
    }
    let successful = !notifications.iter().any(|n| n["level"] == "error");
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// The tool: svcc, its version, and one rule per diagnostic code.
fn driver() -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|&c| rule(c)).collect();
    json!({
        "name": "svcc",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": INFORMATION_URI,
        "rules": rules,
    })
}

/// A code as a rule: its title line as the short description, the page's
/// first paragraph as the full one, the whole page as help.
fn rule(c: Code) -> Value {
    let page = c.explanation();
    let mut lines = page.lines();
    let title = lines.next().unwrap_or("").trim_start_matches('#').trim();
    let title = title.split_once(": ").map_or(title, |(_, t)| t);
    let paragraph: Vec<&str> =
        lines.skip_while(|l| l.trim().is_empty()).take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
    let full = if paragraph.is_empty() { title.to_string() } else { paragraph.join(" ") };
    json!({
        "id": c.as_str(),
        "name": pascal(c.slug()),
        "shortDescription": { "text": title },
        "fullDescription": { "text": full },
        "help": { "text": page, "markdown": page },
    })
}

/// `unknown-node` → `UnknownNode`: SARIF's "friendly name" convention.
fn pascal(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A diagnostic about a file as a result; `None` when it names no file.
fn result(f: &FileDiagnostics, d: &Diagnostic) -> Option<Value> {
    let primary = match &d.primary {
        Some(p) => location(f, p)?,
        None => whole_file(f, &f.display_name(d)?),
    };
    let related: Vec<Value> = d
        .secondary
        .iter()
        .filter_map(|l| location(f, l))
        .zip(1u32..)
        .map(|(loc, id)| {
            let mut with_id = serde_json::Map::from_iter([("id".to_string(), Value::from(id))]);
            with_id.extend(loc.as_object().cloned().unwrap_or_default());
            Value::Object(with_id)
        })
        .collect();
    let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
    Some(json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": { "text": message(d, &related) },
        "locations": [primary],
        "relatedLocations": related,
    }))
}

/// The message, the primary label (`here: …`, also the location's own
/// message), each related location as an embedded link (`[label](id)`),
/// then notes and help: the lines of a `--format github` annotation.
/// With links, literal brackets and backslashes are escaped, as SARIF
/// asks.
fn message(d: &Diagnostic, related: &[Value]) -> String {
    let esc = |s: &str| -> String {
        if related.is_empty() { s.to_string() } else { s.replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]") }
    };
    let mut text = esc(&d.message);
    if let Some(p) = &d.primary {
        text.push_str(&format!("\nhere: {}", esc(&p.message)));
    }
    for r in related {
        let label = r["message"]["text"].as_str().unwrap_or("");
        text.push_str(&format!("\nsee: [{}]({})", esc(label), r["id"]));
    }
    for n in &d.notes {
        text.push_str(&format!("\nnote: {}", esc(n)));
    }
    if let Some(h) = &d.help {
        text.push_str(&format!("\nhelp: {}", esc(h)));
    }
    text
}

/// A problem outside any file, reported about the run.
fn notification(d: &Diagnostic) -> Value {
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str(&format!("\nhelp: {h}"));
    }
    json!({
        "level": level(d.severity),
        "message": { "text": text },
        "descriptor": { "id": d.code.as_str() },
    })
}

/// A label's place: its file, the region in 1-based lines and UTF-16
/// columns with the labelled text, and the whole lines around it.
fn location(f: &FileDiagnostics, l: &Label) -> Option<Value> {
    let src = f.source(l.span.file)?;
    let span = l.span.clamp_to(&src.text);
    let (start_line, start_column) = utf16_position(src, span.start);
    let (end_line, end_column) = utf16_position(src, span.end);
    let text: &str = &src.text;
    let (start, end) = (span.start as usize, span.end as usize);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let context = text[line_start..line_end].trim_end_matches('\r');
    Some(json!({
        "physicalLocation": {
            "artifactLocation": artifact(&src.name),
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
                "snippet": { "text": &text[start..end] },
            },
            "contextRegion": {
                "startLine": start_line,
                "endLine": src.line_col(u32::try_from(line_end).unwrap_or(u32::MAX)).0,
                "snippet": { "text": context },
            },
        },
        "message": { "text": l.message },
    }))
}

/// A problem with a whole file (one that cannot be read, say): every line
/// of it, or line 1 when its text is not known.
fn whole_file(f: &FileDiagnostics, name: &str) -> Value {
    let lines = f.file.as_ref().map_or(1, |src| src.line_col(u32::try_from(src.text.len()).unwrap_or(u32::MAX)).0);
    json!({
        "physicalLocation": {
            "artifactLocation": artifact(name),
            "region": { "startLine": 1, "endLine": lines },
        },
    })
}

/// 1-based line, and 1-based column in UTF-16 code units, of a byte
/// offset on a char boundary.
fn utf16_position(src: &SourceFile, offset: u32) -> (usize, usize) {
    let (line, _) = src.line_col(offset);
    let offset = (offset as usize).min(src.text.len());
    let before = src.text.get(..offset).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].encode_utf16().count() + 1)
}

/// A file as SARIF names it: a relative path (as given on the command
/// line, so run svcc from the repository root) against `%SRCROOT%`, or an
/// absolute `file://` URI; either percent-encoded.
fn artifact(name: &str) -> Value {
    let mut path = name.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", encode(&path)) })
    } else {
        json!({ "uri": encode(&path), "uriBaseId": SRCROOT })
    }
}

/// Percent-encode everything but unreserved characters and `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_code_units() {
        let src = SourceFile::new("a.kdl", "x \"é😀\" y\nnext");
        // `y` is at byte 11: `x "é😀" ` is 1+1+1+1+1+1 chars but é is one
        // unit and 😀 two.
        let y = src.text.find('y').unwrap() as u32;
        assert_eq!(utf16_position(&src, y), (1, 9));
        assert_eq!(src.line_col(y), (1, 8));
        let next = src.text.find("next").unwrap() as u32;
        assert_eq!(utf16_position(&src, next), (2, 1));
    }

    #[test]
    fn paths_are_relative_uris_or_file_uris() {
        assert_eq!(artifact("./services/api.kdl"), json!({ "uri": "services/api.kdl", "uriBaseId": SRCROOT }));
        assert_eq!(artifact("my services/ä.kdl")["uri"], "my%20services/%C3%A4.kdl");
        assert_eq!(artifact("/srv/repo/api.kdl"), json!({ "uri": "file:///srv/repo/api.kdl" }));
    }
}
