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
    // svcc checks the labels and annotations a spec writes when it decodes
    // them; here only what a patch wrote or merged needs a second look.
    let patched = |p: &str| obj.patched.iter().any(|q| q.starts_with(p) || p.starts_with(q.as_str()));
    for base in ["/metadata", "/spec/template/metadata"] {
        for (field, check) in [("labels", labels as fn(&Value, &str, &mut Sink)), ("annotations", annotations)] {
            let at = format!("{base}/{field}");
            if patched(&at) {
                check(&obj.value, &at, sink);
            }
        }
    }
    for selector in ["/spec/selector/matchLabels", "/spec/selector"] {
        if (obj.kind == Kind::Service || selector.ends_with("matchLabels")) && patched(selector) {
            labels(&obj.value, selector, sink);
        }
    }
}

/// `metadata.name`: a DNS-1123 subdomain, a DNS-1035 label for a Service
/// (`ValidateObjectMeta` with the kind's name function), and short enough
/// to be a file name.
fn name(obj: &Object, sink: &mut Sink) {
    let Some(name) = super::get(&obj.value, "/metadata/name").and_then(Value::as_str) else {
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
    let Some(map) = super::get(value, pointer).and_then(Value::as_object) else { return };
    for (k, v) in map {
        let at = || format!("{pointer}/{}", escape(k));
        if let Err(why) = values::check_qualified_name(k) {
            sink.push(Code::InvalidMetadata, at(), format!("the label key `{k}` is invalid: {why}"));
        }
        match v.as_str() {
            Some(s) => {
                if let Err(why) = values::check_label_value(s) {
                    sink.push(Code::InvalidMetadata, at(), format!("the value `{s}` of label `{k}` is invalid: {why}"));
                }
            }
            None => {
                sink.push(Code::InvalidMetadata, at(), format!("the value of label `{k}` is not a string"));
            }
        }
    }
}

fn annotations(value: &Value, pointer: &str, sink: &mut Sink) {
    let Some(map) = super::get(value, pointer).and_then(Value::as_object) else { return };
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
