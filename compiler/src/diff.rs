//! Comparing committed output with a fresh build, for GitOps repositories.
//!
//! Two levels, both pure (the CLI reads folders and git refs):
//! - [`files`]: which files `svcc build -o DIR` would add, change or remove
//!   (`svcc build --check`);
//! - [`objects`]: a semantic diff per Kubernetes object (kind, namespace,
//!   name), field by field as JSON pointers, with the changes that break a
//!   rollout flagged (`svcc diff`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::emit::Artifact;

// ---------------------------------------------------------------------------
// Files

/// What `svcc build -o DIR` would do to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Changed,
    Removed,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Changed => "changed",
            FileStatus::Removed => "removed",
        }
    }
}

/// One file that differs between the output folder and a fresh build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub status: FileStatus,
    /// Relative to the output folder, `/`-separated.
    pub path: String,
    /// The committed contents (`None` when added).
    #[serde(skip)]
    pub old: Option<String>,
    /// The fresh contents (`None` when removed).
    #[serde(skip)]
    pub new: Option<String>,
}

/// The file `svcc build -o` writes into each folder it owns, so that it
/// never replaces a folder it did not write (docs/gitops.md). Not part of a
/// build's artifacts, and never compared.
pub const OWNED_MARKER: &str = ".svcc-owned";

/// The folder a file belongs to: its first two components
/// (`<service>/<environment>` or `<service>/pipeline`, whose files sit in
/// subfolders such as `.github/workflows/`), or its first one for the
/// folders that span services (`_env.production`, `_argocd`: see
/// [`crate::gitops`]).
pub fn owning_folder(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or("");
    if crate::gitops::is_shared_folder(first) && path.len() > first.len() {
        return first;
    }
    match path.match_indices('/').nth(1) {
        Some((i, _)) => &path[..i],
        None => path.rsplit_once('/').map_or("", |(f, _)| f),
    }
}

/// The folders (`<service>/<environment>`, and those of [`crate::gitops`])
/// a build owns: `svcc build -o` replaces each of them as a whole.
pub fn owned_folders(artifacts: &[Artifact]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut folders: Vec<String> = Vec::new();
    for a in artifacts {
        let folder = owning_folder(&a.path);
        if seen.insert(folder) {
            folders.push(folder.to_string());
        }
    }
    folders
}

/// Compare a fresh build with the files found in the folders it owns
/// (`existing`: path relative to the output folder → contents). Files in
/// an owned folder that the build does not produce would be removed.
/// Sorted by path.
pub fn files(artifacts: &[Artifact], existing: &BTreeMap<String, String>) -> Vec<FileChange> {
    let folders = owned_folders(artifacts);
    let mut out = Vec::new();
    for a in artifacts {
        match existing.get(&a.path) {
            None => out.push(FileChange {
                status: FileStatus::Added,
                path: a.path.clone(),
                old: None,
                new: Some(a.contents.clone()),
            }),
            Some(old) if *old != a.contents => out.push(FileChange {
                status: FileStatus::Changed,
                path: a.path.clone(),
                old: Some(old.clone()),
                new: Some(a.contents.clone()),
            }),
            Some(_) => {}
        }
    }
    for (path, old) in existing {
        let folder = owning_folder(path);
        if folders.iter().any(|f| f == folder) && !artifacts.iter().any(|a| a.path == *path) {
            out.push(FileChange { status: FileStatus::Removed, path: path.clone(), old: Some(old.clone()), new: None });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

// ---------------------------------------------------------------------------
// Objects

/// Identity of a Kubernetes object: two files describe the same object when
/// these agree. The API version is not part of it (a version change is a
/// change of the same object).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One object read from a file.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The file it came from, relative to the output folder.
    pub path: String,
    pub value: Value,
}

impl Manifest {
    /// `None` for documents that are not Kubernetes objects (kustomize's
    /// `kustomization.yaml` files, documents without kind or name). A Flux
    /// `Kustomization` (kustomize.toolkit.fluxcd.io) is an object.
    pub fn key(&self) -> Option<ObjectKey> {
        let kind = self.value.get("kind")?.as_str()?;
        let api_version = self.api_version().unwrap_or_default();
        if kind == "Kustomization" && api_version.starts_with("kustomize.config.k8s.io/") {
            return None;
        }
        let meta = self.value.get("metadata")?;
        Some(ObjectKey {
            kind: kind.to_string(),
            namespace: meta.get("namespace").and_then(Value::as_str).map(str::to_string),
            name: meta.get("name")?.as_str()?.to_string(),
        })
    }

    fn api_version(&self) -> Option<&str> {
        self.value.get("apiVersion").and_then(Value::as_str)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectStatus {
    Added,
    Removed,
    Changed,
}

/// One field that differs, by JSON pointer into the object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub pointer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// Why a change breaks a rollout or an apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakingKind {
    /// A field the API server refuses to change (`field is immutable`).
    ImmutableField,
    /// A selector change: traffic or protection moves to other pods.
    SelectorChange,
    /// The object is deleted and another one of its kind created.
    Rename,
    /// The object is deleted.
    Removed,
    /// A Service port disappears while something still refers to it.
    RemovedPort,
    ApiVersionChange,
    /// Replicas move between the workload and an autoscaler.
    ReplicasOwnership,
}

impl BreakingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakingKind::ImmutableField => "immutable-field",
            BreakingKind::SelectorChange => "selector-change",
            BreakingKind::Rename => "rename",
            BreakingKind::Removed => "removed",
            BreakingKind::RemovedPort => "removed-port",
            BreakingKind::ApiVersionChange => "api-version-change",
            BreakingKind::ReplicasOwnership => "replicas-ownership",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breaking {
    pub kind: BreakingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub reason: String,
}

/// The difference for one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectDiff {
    pub object: ObjectKey,
    pub status: ObjectStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_path: Option<String>,
    pub fields: Vec<FieldChange>,
    pub breaking: Vec<Breaking>,
}

/// A semantic diff: every object that differs, grouped and sorted by object.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub objects: Vec<ObjectDiff>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn breaking_count(&self) -> usize {
        self.objects.iter().map(|o| o.breaking.len()).sum()
    }

    /// The JSON form `svcc diff --format json` prints.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "version": 1,
            "summary": {
                "objects": self.objects.len(),
                "added": self.objects.iter().filter(|o| o.status == ObjectStatus::Added).count(),
                "removed": self.objects.iter().filter(|o| o.status == ObjectStatus::Removed).count(),
                "changed": self.objects.iter().filter(|o| o.status == ObjectStatus::Changed).count(),
                "breaking": self.breaking_count(),
            },
            "objects": self.objects,
        })
    }

    /// The human form: one block per object, `!` on breaking lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if self.objects.is_empty() {
            s.push_str("no changes\n");
            return s;
        }
        for o in &self.objects {
            let sign = match o.status {
                ObjectStatus::Added => '+',
                ObjectStatus::Removed => '-',
                ObjectStatus::Changed => '~',
            };
            let path = o.new_path.as_deref().or(o.old_path.as_deref()).unwrap_or("");
            s.push_str(&format!("{sign} {} ({path})\n", o.object));
            for b in &o.breaking {
                let at = b.pointer.as_deref().map(|p| format!(" {p}:")).unwrap_or_default();
                s.push_str(&format!("    ! breaking [{}]{at} {}\n", b.kind.as_str(), b.reason));
            }
            for f in &o.fields {
                let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), compact);
                s.push_str(&format!("    {}: {} -> {}\n", f.pointer, show(&f.old), show(&f.new)));
            }
        }
        let count = |st: ObjectStatus| self.objects.iter().filter(|o| o.status == st).count();
        s.push_str(&format!(
            "{} object(s): {} added, {} removed, {} changed; {} breaking change(s)\n",
            self.objects.len(),
            count(ObjectStatus::Added),
            count(ObjectStatus::Removed),
            count(ObjectStatus::Changed),
            self.breaking_count()
        ));
        // Names, keys and values come from YAML anyone may commit: no
        // escape sequence of theirs reaches the terminal.
        crate::diagnostic::render::visible(&s)
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 { format!("{}…", s.chars().take(119).collect::<String>()) } else { s }
}

/// Field-level differences between two values. Lists whose items all have
/// a distinct `name` are matched by name (so inserting a port does not
/// show every later port as changed); pointers use the new index, or the
/// old one for removed items. Where the order of such a list means
/// something ([`order_free`] says where it does not), a new order of the
/// same names is a change of the list itself, its names old → new.
pub fn fields(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(old), Some(new), &mut out);
    out
}

/// Named lists whose order means nothing: Kubernetes looks their items up
/// by name (a pod's `volumes` from its mounts, `ports`, `imagePullSecrets`).
/// In every other named list the order is part of the value: containers
/// and init containers start in it, an `env` entry's `$(VAR)` sees only
/// the entries before it, mounts are made one after the other. `svcc diff`
/// and import's comparison (`import::diff`, `import::ledger`) both read
/// lists this way.
pub fn order_free(key: &str) -> bool {
    matches!(key, "volumes" | "ports" | "imagePullSecrets")
}

/// The items' `name`s, when every item has one and no two are the same.
pub(crate) fn named(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items.iter().map(|i| i.get("name").and_then(Value::as_str)).collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

fn walk(ptr: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(&crate::validate::child_pointer(ptr, k), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => match (named(a), named(b)) {
            (Some(an), Some(bn)) if !a.is_empty() && !b.is_empty() => {
                let key = ptr.rsplit('/').next().unwrap_or_default();
                if !order_free(key) && reordered(&an, &bn) {
                    out.push(FieldChange {
                        pointer: ptr.to_string(),
                        old: Some(Value::from(an.clone())),
                        new: Some(Value::from(bn.clone())),
                    });
                }
                for (j, item) in b.iter().enumerate() {
                    let old_item = an.iter().position(|n| *n == bn[j]).map(|i| &a[i]);
                    walk(&format!("{ptr}/{j}"), old_item, Some(item), out);
                }
                for (i, item) in a.iter().enumerate() {
                    if !bn.contains(&an[i]) {
                        walk(&format!("{ptr}/{i}"), Some(item), None, out);
                    }
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    walk(&format!("{ptr}/{i}"), a.get(i), b.get(i), out);
                }
            }
        },
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange { pointer: ptr.to_string(), old: a.cloned(), new: b.cloned() }),
    }
}

/// The names both lists have do not come in the same order.
fn reordered(a: &[&str], b: &[&str]) -> bool {
    let mut theirs = b.iter().filter(|n| a.contains(n));
    a.iter().filter(|n| b.contains(n)).any(|n| theirs.next() != Some(n))
}

/// Compare committed objects with freshly built ones.
pub fn objects(old: &[Manifest], new: &[Manifest]) -> Report {
    let index = |ms: &[Manifest]| -> BTreeMap<ObjectKey, Manifest> {
        ms.iter().filter_map(|m| m.key().map(|k| (k, m.clone()))).collect()
    };
    let (old, new) = (index(old), index(new));
    let mut report = Report::default();
    for (key, n) in &new {
        match old.get(key) {
            None => report.objects.push(ObjectDiff {
                object: key.clone(),
                status: ObjectStatus::Added,
                old_path: None,
                new_path: Some(n.path.clone()),
                fields: Vec::new(),
                breaking: Vec::new(),
            }),
            Some(o) => {
                let fields = fields(&o.value, &n.value);
                if fields.is_empty() {
                    continue;
                }
                let breaking = breaking_changes(key, o, n, &fields, &old, &new);
                report.objects.push(ObjectDiff {
                    object: key.clone(),
                    status: ObjectStatus::Changed,
                    old_path: Some(o.path.clone()),
                    new_path: Some(n.path.clone()),
                    fields,
                    breaking,
                });
            }
        }
    }
    for (key, o) in &old {
        if new.contains_key(key) {
            continue;
        }
        // The same kind appearing under another name in the same environment
        // (`<service>/<environment>/…`) and namespace is a rename.
        let env = |p: &str| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len().checked_sub(2).map(|i| parts[i].to_string())
        };
        let successor = new.iter().find(|(k, n)| {
            k.kind == key.kind && k.namespace == key.namespace && !old.contains_key(*k) && env(&n.path) == env(&o.path)
        });
        let breaking = match successor {
            Some((to, _)) => Breaking {
                kind: BreakingKind::Rename,
                pointer: None,
                reason: format!(
                    "renamed to {to}: the old object is deleted and a new one created, not updated in place{}",
                    match key.kind.as_str() {
                        "Deployment" | "StatefulSet" | "Rollout" => "; both run pods until the old one is pruned",
                        "Service" => "; clients of the old name lose their endpoint",
                        _ => "",
                    }
                ),
            },
            None => Breaking {
                kind: BreakingKind::Removed,
                pointer: None,
                reason: "deleted from the output: a pruning GitOps controller deletes it from the cluster".to_string(),
            },
        };
        report.objects.push(ObjectDiff {
            object: key.clone(),
            status: ObjectStatus::Removed,
            old_path: Some(o.path.clone()),
            new_path: None,
            fields: Vec::new(),
            breaking: vec![breaking],
        });
    }
    report.objects.sort_by(|a, b| a.object.cmp(&b.object));
    report
}

/// Workload kinds whose `spec.selector` the API server refuses to change.
const IMMUTABLE_SELECTOR: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

fn touches(fields: &[FieldChange], prefix: &str) -> bool {
    fields.iter().any(|f| f.pointer == prefix || f.pointer.starts_with(&format!("{prefix}/")))
}

fn breaking_changes(
    key: &ObjectKey,
    old: &Manifest,
    new: &Manifest,
    fields: &[FieldChange],
    old_all: &BTreeMap<ObjectKey, Manifest>,
    new_all: &BTreeMap<ObjectKey, Manifest>,
) -> Vec<Breaking> {
    let mut out = Vec::new();
    let mut push = |kind, pointer: &str, reason: String| {
        out.push(Breaking { kind, pointer: Some(pointer.to_string()), reason });
    };
    if old.api_version() != new.api_version() {
        push(
            BreakingKind::ApiVersionChange,
            "/apiVersion",
            format!(
                "API version {} -> {}: clients and tools pinned to the old version break, and fields may be dropped",
                old.api_version().unwrap_or("(none)"),
                new.api_version().unwrap_or("(none)")
            ),
        );
    }
    let kind = key.kind.as_str();
    if IMMUTABLE_SELECTOR.contains(&kind) && touches(fields, "/spec/selector") {
        push(
            BreakingKind::ImmutableField,
            "/spec/selector",
            format!(
                "`spec.selector` of a {kind} is immutable: the apply fails with `field is immutable`; delete and recreate the object (with downtime) or keep the old selector"
            ),
        );
    }
    if kind == "PodDisruptionBudget" && touches(fields, "/spec/selector") {
        push(
            BreakingKind::SelectorChange,
            "/spec/selector",
            "the budget stops protecting the running pods until they are replaced".to_string(),
        );
    }
    if kind == "Service" {
        if touches(fields, "/spec/selector") {
            push(
                BreakingKind::SelectorChange,
                "/spec/selector",
                "the Service sends traffic to different pods; during the rollout it may match none".to_string(),
            );
        }
        if touches(fields, "/spec/clusterIP") || touches(fields, "/spec/clusterIPs") {
            push(
                BreakingKind::ImmutableField,
                "/spec/clusterIP",
                "`spec.clusterIP` is immutable: the apply fails unless the Service is recreated".to_string(),
            );
        }
        if touches(fields, "/spec/type") {
            let t =
                |m: &Manifest| m.value.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
            push(
                BreakingKind::ImmutableField,
                "/spec/type",
                format!(
                    "Service type {} -> {}: node ports or load balancer addresses are released or allocated, and some transitions (to or from ExternalName) are refused",
                    t(old),
                    t(new)
                ),
            );
        }
        removed_ports(old, new, old_all, &mut out);
    }
    if IMMUTABLE_SELECTOR.contains(&kind) || kind == "Rollout" {
        replicas_ownership(key, old, new, old_all, new_all, &mut out);
    }
    out
}

fn port_names(m: &Manifest) -> Vec<(String, Value)> {
    m.value
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let id = p
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| p.get("port").map_or(String::new(), Value::to_string), str::to_string);
                    (id, p.get("port").cloned().unwrap_or(Value::Null))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A Service port that disappears (or changes number) while another
/// generated object, or anything outside, may still refer to it.
fn removed_ports(old: &Manifest, new: &Manifest, old_all: &BTreeMap<ObjectKey, Manifest>, out: &mut Vec<Breaking>) {
    let new_ports = port_names(new);
    for (i, (name, number)) in port_names(old).into_iter().enumerate() {
        let pointer = Some(format!("/spec/ports/{i}"));
        match new_ports.iter().find(|(n, _)| *n == name) {
            None => {
                // Only the same service's objects (its `<service>/<environment>`
                // folder) refer to its ports: another service's `http` is its own.
                let folder = owning_folder(&old.path);
                let users: Vec<String> = old_all
                    .iter()
                    .filter(|(k, m)| {
                        k.kind != "Service" && owning_folder(&m.path) == folder && refers_to_port(&m.value, &name)
                    })
                    .map(|(k, _)| k.to_string())
                    .collect();
                let who = if users.is_empty() {
                    "clients, Ingresses and ServiceMonitors that use it lose it".to_string()
                } else {
                    format!("still referenced by {}", users.join(", "))
                };
                out.push(Breaking {
                    kind: BreakingKind::RemovedPort,
                    pointer,
                    reason: format!("Service port `{name}` ({number}) is removed: {who}"),
                });
            }
            Some((_, n)) if *n != number => out.push(Breaking {
                kind: BreakingKind::RemovedPort,
                pointer,
                reason: format!("Service port `{name}` moves from {number} to {n}: clients of the old number break"),
            }),
            Some(_) => {}
        }
    }
}

fn refers_to_port(v: &Value, name: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| {
            (matches!(k.as_str(), "port" | "targetPort") && x.as_str() == Some(name)) || refers_to_port(x, name)
        }),
        Value::Array(a) => a.iter().any(|x| refers_to_port(x, name)),
        _ => false,
    }
}

fn scaled_by_hpa(all: &BTreeMap<ObjectKey, Manifest>, key: &ObjectKey) -> bool {
    all.iter().any(|(k, m)| {
        k.kind == "HorizontalPodAutoscaler"
            && k.namespace == key.namespace
            && m.value.pointer("/spec/scaleTargetRef/kind").and_then(Value::as_str) == Some(key.kind.as_str())
            && m.value.pointer("/spec/scaleTargetRef/name").and_then(Value::as_str) == Some(key.name.as_str())
    })
}

fn replicas_ownership(
    key: &ObjectKey,
    old: &Manifest,
    new: &Manifest,
    old_all: &BTreeMap<ObjectKey, Manifest>,
    new_all: &BTreeMap<ObjectKey, Manifest>,
    out: &mut Vec<Breaking>,
) {
    let (was, is) = (scaled_by_hpa(old_all, key), scaled_by_hpa(new_all, key));
    let had = old.value.pointer("/spec/replicas").is_some();
    let has = new.value.pointer("/spec/replicas").is_some();
    let reason = match (was, is) {
        (false, true) if had && !has => Some(
            "replicas move from the manifest to an autoscaler: removing `spec.replicas` makes a client-side `kubectl apply` reset the count to 1 before the HPA acts; apply with server-side apply or remove the field from the last-applied annotation first",
        ),
        (true, false) if has => Some(
            "replicas move from the autoscaler back to the manifest: the fixed count replaces whatever the HPA scaled to, at once",
        ),
        (true, true) if has => Some("the manifest sets `spec.replicas` while an autoscaler owns it: they will fight"),
        _ => None,
    };
    if let Some(r) = reason {
        out.push(Breaking {
            kind: BreakingKind::ReplicasOwnership,
            pointer: Some("/spec/replicas".to_string()),
            reason: r.to_string(),
        });
    }
}

#[cfg(test)]
mod tests;
