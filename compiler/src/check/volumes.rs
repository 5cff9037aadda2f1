//! `volumes { NAME "PATH" … }`: writable scratch folders and mounted
//! secrets and config maps, each at its own path.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Volume, VolumeSource};
use crate::plan::PlanVolume;
use crate::source::Span;
use crate::values::format_quantity;

pub(super) fn resolve(volumes: &Map<Volume>, diags: &mut Diagnostics) -> Vec<PlanVolume> {
    let mut out = Vec::new();
    let mut by_path: BTreeMap<String, Span> = BTreeMap::new();
    for v in volumes.values() {
        let Some(path) = &v.path else {
            diags.push(
                Diagnostic::error(Code::MissingValue, format!("volume `{}` has no mount path", v.name.value))
                    .at(v.name.span, "needs a path")
                    .help(format!("write `{} \"/tmp\"`", v.name.value)),
            );
            continue;
        };
        let norm = path.value.trim_end_matches('/').to_string();
        if norm.is_empty() {
            diags.push(
                Diagnostic::error(Code::MountConflict, "a volume cannot be mounted at `/`")
                    .at(path.span, "the root filesystem")
                    .help("mount writable folders where the app writes, e.g. \"/tmp\""),
            );
            continue;
        }
        if let Some(first) = by_path.get(&norm) {
            diags.push(
                Diagnostic::error(Code::MountConflict, format!("two volumes are mounted at `{}`", path.value))
                    .at(path.span, "mounted again here")
                    .also(*first, "first mounted here")
                    .help("give each volume its own path"),
            );
            continue;
        }
        by_path.insert(norm, path.span);
        out.push(PlanVolume {
            name: v.name.value.clone(),
            path: path.value.clone(),
            source: v.source.clone().unwrap_or(VolumeSource::Scratch),
            size_limit: v.size_limit.as_ref().map(|q| format_quantity(q.value)),
            memory: v.memory.as_ref().is_some_and(|m| m.value),
        });
    }
    out
}
