//! Names, labels, annotations and strings of any object (SVC0602, SVC0606).

use serde_json::Value;

use super::{Sink, escape};
use crate::diagnostic::Code;
use crate::lower::{Kind, Object};
use crate::values;

/// Annotations of one object may total at most 256 KiB
/// (`apimachinery/pkg/api/validation.ValidateAnnotationsSize`).
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// A file name longer than this cannot be created on common file systems
/// (ext4, APFS, NTFS: 255 bytes), so `build -o` would fail where `check`
/// passed.
const FILE_NAME_MAX_BYTES: usize = 255;

pub(super) fn check(obj: &Object, sink: &mut Sink) {
    name(obj, sink);
    for base in ["/metadata", "/spec/template/metadata"] {
        labels(&obj.value, &format!("{base}/labels"), sink);
        annotations(&obj.value, &format!("{base}/annotations"), sink);
    }
    for selector in ["/spec/selector/matchLabels", "/spec/selector"] {
        if obj.kind == Kind::Service || selector.ends_with("matchLabels") {
            labels(&obj.value, selector, sink);
        }
    }
    let mut at = String::new();
    control_characters(&obj.value, &mut at, sink);
}

/// `metadata.name`: a DNS-1123 subdomain, a DNS-1035 label for a Service
/// (`ValidateObjectMeta` with the kind's name function), and short enough
/// to be a file name.
fn name(obj: &Object, sink: &mut Sink) {
    let Some(name) = obj.value.pointer("/metadata/name").and_then(Value::as_str) else {
        sink.push(Code::InvalidMetadata, "/metadata/name", "the object has no name");
        return;
    };
    let checked = match obj.kind {
        Kind::Service => values::check_dns1035_label(name),
        _ => values::check_dns1123_subdomain(name),
    };
    if let Err(why) = checked {
        sink.push(Code::InvalidMetadata, "/metadata/name", format!("the name `{name}` {why}"));
    }
    let file = obj.file_name();
    if file.len() > FILE_NAME_MAX_BYTES {
        sink.push(
            Code::InvalidMetadata,
            "/metadata/name",
            format!(
                "its file name `{file}` is {} bytes long, over the {FILE_NAME_MAX_BYTES} a file system allows",
                file.len()
            ),
        )
        .help("shorten the name: `svcc build -o` writes one file per object");
    }
}

fn labels(value: &Value, pointer: &str, sink: &mut Sink) {
    let Some(map) = value.pointer(pointer).and_then(Value::as_object) else { return };
    for (k, v) in map {
        let at = format!("{pointer}/{}", escape(k));
        if let Err(why) = values::check_qualified_name(k) {
            sink.push(Code::InvalidMetadata, at.clone(), format!("the label key `{k}` is invalid: {why}"));
        }
        match v.as_str() {
            Some(s) => {
                if let Err(why) = values::check_label_value(s) {
                    sink.push(Code::InvalidMetadata, at, format!("the value `{s}` of label `{k}` is invalid: {why}"));
                }
            }
            None => {
                sink.push(Code::InvalidMetadata, at, format!("the value of label `{k}` is not a string"));
            }
        }
    }
}

fn annotations(value: &Value, pointer: &str, sink: &mut Sink) {
    let Some(map) = value.pointer(pointer).and_then(Value::as_object) else { return };
    let mut total = 0;
    for (k, v) in map {
        total += k.len() + v.as_str().map_or(0, str::len);
        if let Err(why) = values::check_qualified_name(k) {
            sink.push(
                Code::InvalidMetadata,
                format!("{pointer}/{}", escape(k)),
                format!("the annotation key `{k}` is invalid: {why}"),
            );
        }
    }
    if total > ANNOTATIONS_MAX_BYTES {
        sink.push(
            Code::InvalidMetadata,
            pointer,
            format!("the annotations total {total} bytes, over the {ANNOTATIONS_MAX_BYTES} the API server accepts"),
        );
    }
}

/// A control character other than tab, line feed or carriage return (C0,
/// DEL, C1): YAML cannot hold it unescaped, and `kubectl kustomize` (so
/// `kubectl apply -k`) refuses the escaped form too.
fn control_characters(value: &Value, at: &mut String, sink: &mut Sink) {
    match value {
        Value::String(s) => {
            if let Some(c) = s.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
                sink.push(
                    Code::ControlCharacter,
                    at.clone(),
                    format!("a value holds the control character {}", values::describe_char(c)),
                )
                .help("remove it: Kubernetes manifests hold printable text");
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                control_characters(v, at, sink);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&escape(k));
                if k.chars().any(|c| c.is_control()) {
                    sink.push(Code::ControlCharacter, at.clone(), "a key holds a control character");
                }
                control_characters(v, at, sink);
                at.truncate(len);
            }
        }
        _ => {}
    }
}
