//! Image tags from the command line and from a tags file:
//! `--image-tag TAG` (every service), `--image-tag NAME=TAG` (one service,
//! repeatable) and `--image-tags FILE` (one `service tag` line per service,
//! the file CI updates when it pushes an image). Per-service tags win over
//! the plain one, which wins over the specs' own tags; a `NAME=TAG` flag
//! wins over the file.

use std::collections::BTreeMap;
use std::path::Path;

use svcc::diagnostic::render::FileDiagnostics;
use svcc::diagnostic::{Code, Diagnostic};
use svcc::repo::Repo;
use svcc::source::{SourceFile, Span};

use super::inputs::refused;

/// The tags a run deploys.
#[derive(Debug, Default)]
pub(super) struct Tags {
    /// `--image-tag TAG`: every service.
    pub every: Option<String>,
    /// By service name: the tags file, then `--image-tag NAME=TAG`.
    pub by_service: BTreeMap<String, String>,
}

fn invalid(message: String) -> FileDiagnostics {
    FileDiagnostics::without_source(None, vec![Diagnostic::error(Code::InvalidArgument, message)])
}

/// The `--image-tag` flags: at most one plain `TAG`, any number of
/// `NAME=TAG` (one per service). Every problem goes to `problems`.
pub(super) fn from_flags(flags: &[String], problems: &mut Vec<FileDiagnostics>) -> Tags {
    let mut tags = Tags::default();
    for flag in flags {
        let (name, tag) = match flag.split_once('=') {
            Some((name, tag)) => (Some(name), tag),
            None => (None, flag.as_str()),
        };
        if let Err(why) = svcc::values::check_image_tag(tag) {
            problems.push(invalid(format!("`--image-tag {flag}` is not a valid image tag: {why}")));
            continue;
        }
        match name {
            None if tags.every.is_some() => problems.push(invalid(format!(
                "`--image-tag {flag}`: a tag for every service is already given; name the service: `--image-tag NAME={tag}`"
            ))),
            None => tags.every = Some(tag.to_string()),
            Some(name) => {
                if let Err(why) = svcc::values::check_dns1035_label(name) {
                    problems.push(invalid(format!("`--image-tag {flag}`: `{name}` is not a service name: {why}")));
                } else if tags.by_service.insert(name.to_string(), tag.to_string()).is_some() {
                    problems.push(invalid(format!("`--image-tag {flag}`: service `{name}` is given a tag twice")));
                }
            }
        }
    }
    tags
}

/// Read the tags file `path` through the confined reader (inside the
/// repository, a regular file, at most 1 MiB) and add its tags under the
/// flags' (`tags`). Returns the file's name (an input of the build).
pub(super) fn read_file(
    repo: &mut Repo,
    path: &Path,
    tags: &mut Tags,
    problems: &mut Vec<FileDiagnostics>,
) -> Option<String> {
    let input = match repo.read_spec(path, path) {
        Ok(i) => i,
        Err(why) => {
            problems.push(refused(path, &why));
            return None;
        }
    };
    let Ok(text) = String::from_utf8(input.bytes) else {
        problems.push(invalid(format!("the tags file `{}` is not UTF-8 text", input.name)));
        return None;
    };
    let (found, diagnostics) = parse(&text);
    if !diagnostics.is_empty() {
        let file = SourceFile::new(input.name.clone(), text.as_str());
        problems.push(FileDiagnostics { file: Some(file), name: None, diagnostics, imports: Vec::new() });
    }
    for (service, tag) in found {
        tags.by_service.entry(service).or_insert(tag);
    }
    Some(input.name)
}

/// Parse a tags file: one `SERVICE TAG` pair per line, separated by spaces
/// or tabs; blank lines and lines starting with `#` are skipped.
pub(super) fn parse(text: &str) -> (BTreeMap<String, String>, Vec<Diagnostic>) {
    let mut tags = BTreeMap::new();
    let mut first: BTreeMap<String, Span> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words: Vec<(usize, &str)> = words(content).map(|(at, w)| (start + at, w)).collect();
        let line_span = Span::in_file(0, start + content.len() - trimmed.len(), start + content.len());
        let [(name_at, name), (tag_at, tag)] = words[..] else {
            diagnostics.push(
                Diagnostic::error(Code::InvalidArgument, "a tags file line is `SERVICE TAG`")
                    .at(line_span, format!("{} word(s)", words.len()))
                    .help("write the service's name and its image tag, separated by a space: `checkout 3.2.1`"),
            );
            continue;
        };
        let name_span = Span::in_file(0, name_at, name_at + name.len());
        if let Err(why) = svcc::values::check_dns1035_label(name) {
            diagnostics.push(
                Diagnostic::error(Code::InvalidArgument, format!("`{name}` is not a service name")).at(name_span, why),
            );
            continue;
        }
        if let Err(why) = svcc::values::check_image_tag(tag) {
            diagnostics.push(
                Diagnostic::error(Code::InvalidArgument, format!("`{tag}` is not a valid image tag"))
                    .at(Span::in_file(0, tag_at, tag_at + tag.len()), why),
            );
            continue;
        }
        if let Some(at) = first.get(name) {
            diagnostics.push(
                Diagnostic::error(Code::InvalidArgument, format!("service `{name}` is listed twice"))
                    .at(name_span, "listed again here")
                    .also(*at, "first listed here")
                    .help("keep one line per service"),
            );
            continue;
        }
        first.insert(name.to_string(), name_span);
        tags.insert(name.to_string(), tag.to_string());
    }
    (tags, diagnostics)
}

/// The words of a line with their byte offsets.
fn words(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split([' ', '\t'])
        .scan(0, |at, w| {
            let start = *at;
            *at += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_file_lines() {
        let (tags, d) = parse("# comment\ncheckout 3.2.1\n\n  ledger\t0.14.2  \r\nmailer 1.8.0\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(tags["checkout"], "3.2.1");
        assert_eq!(tags["ledger"], "0.14.2");
        assert_eq!(tags.len(), 3);
        let (tags, d) = parse("a 1\nb\nC 2\nd bad/tag\na 3\n");
        assert_eq!(tags.len(), 1);
        let labels: Vec<(u32, u32)> =
            d.iter().map(|d| d.primary.as_ref().map(|l| (l.span.start, l.span.end)).unwrap()).collect();
        assert_eq!(labels, [(4, 5), (6, 7), (12, 19), (20, 21)]);
    }

    #[test]
    fn flags_name_one_service_or_all() {
        let mut problems = Vec::new();
        let t = from_flags(&["1.0".into(), "api=2.0".into()], &mut problems);
        assert!(problems.is_empty());
        assert_eq!((t.every.as_deref(), t.by_service["api"].as_str()), (Some("1.0"), "2.0"));
        from_flags(&["1.0".into(), "2.0".into(), "api=x".into(), "api=y".into(), "Bad=1".into()], &mut problems);
        assert_eq!(problems.len(), 3);
    }
}
