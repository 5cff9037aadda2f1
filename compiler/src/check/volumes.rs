//! `volumes { NAME "PATH" … }`: writable scratch folders and mounted
//! secrets and config maps, each at its own path.

use std::collections::BTreeMap;

use super::merge::{Merger, or};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Volume, VolumeSource};
use crate::plan::PlanVolume;
use crate::settings as s;
use crate::source::Span;
use crate::values::format_quantity;

/// Item by item, by name: each part the upper layer gives replaces the
/// lower one's. A new volume needs its mount path.
pub(super) fn merge(c: &mut Merger<'_>, base: &Map<Volume>, over: &Map<Volume>) -> Map<Volume> {
    let mut out = base.clone();
    for (name, o) in over {
        let Volume { name: o_name, path, source, size_limit, memory, optional, items, read_only } = o;
        match base.get(name) {
            Some(b) => {
                let Volume {
                    name: _,
                    path: b_path,
                    source: b_source,
                    size_limit: b_size_limit,
                    memory: b_memory,
                    optional: b_optional,
                    items: b_items,
                    read_only: b_read_only,
                } = b;
                let merged = Volume {
                    name: o_name.clone(),
                    path: c.pick_at(&s::VOLUME, name, path, b_path),
                    size_limit: c.pick_at(&s::VOLUME_SIZE_LIMIT, name, size_limit, b_size_limit),
                    source: or(source, b_source),
                    memory: c.pick_at(&s::VOLUME_MEMORY, name, memory, b_memory),
                    optional: c.pick_at(&s::VOLUME_OPTIONAL, name, optional, b_optional),
                    items: c.pick_at(&s::VOLUME_ITEMS, name, items, b_items),
                    read_only: c.pick_at(&s::VOLUME_READ_ONLY, name, read_only, b_read_only),
                };
                out.insert(name.clone(), merged);
            }
            None if path.is_none() => c.refines(
                &format!("volume `{name}`"),
                o_name.span,
                "declare the volume in the service, or give its mount path here",
            ),
            None => {
                out.insert(name.clone(), o.clone());
            }
        }
    }
    out
}

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
            optional: v.optional.as_ref().is_some_and(|o| o.value),
            items: v.items.as_ref().map(|i| i.value.clone()).unwrap_or_default(),
            read_only: v.read_only.as_ref().map(|r| r.value),
        });
    }
    out
}
