//! Stage 4: [`Plan`] → typed Kubernetes objects (k8s-openapi, Kubernetes
//! 1.33 API), each with the spec spans of the values it carries.
//!
//! Names, labels and selectors are derived once from the plan and used by
//! every object, so the objects cannot disagree with each other.
//!
//! Each spec block's part is built in the module named after it (`ports`,
//! `env`, `probes`, `security`, `scaling`, …); `workload` assembles the
//! pod template and the Deployment, `rollout` the Rollout; `lower` lists
//! the objects in their fixed order.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

mod config;
mod env;
pub mod gitops;
mod jobs;
mod kinds;
mod lifecycle;
mod metadata;
mod monitoring;
mod network;
mod ports;
mod probes;
mod resources;
mod rollout;
mod route;
mod scaling;
mod scheduling;
mod security;
mod volumes;
mod workload;

pub use kinds::Kind;
use kinds::OfKind;
pub(crate) use metadata::{meta, named, selector, workload_meta};
pub use workload::pod_template;

use crate::model::IntOrPercent;
use crate::plan::*;
use crate::settings;
use crate::source::Span;

/// One generated object, as a JSON value, with where its values came from.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: Kind,
    pub name: String,
    pub value: serde_json::Value,
    /// The spec span of the object as a whole (the `service` name).
    pub origin: Span,
    /// JSON pointer → where the value at that pointer came from. A pointer
    /// without an entry inherits the origin of its nearest recorded ancestor.
    pub provenance: BTreeMap<String, Origin>,
    /// JSON pointers written or removed by patches (`crate::patch`).
    pub patched: Vec<String>,
}

/// Where a generated value came from (`svcc explain KIND/NAME POINTER FILE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written in the `service` block.
    Spec(Span),
    /// Written in (or overridden by) an `environment NAME { … }` block.
    Environment { name: String, span: Span },
    /// Not written anywhere: the documented default of this setting.
    Default { setting: String },
    /// Computed from another value, e.g. names and selectors from the service name.
    Derived { from: Span, what: &'static str },
    /// Written or removed by a `patch` block.
    Patch(Span),
}

impl Origin {
    /// The spec token this origin points at, if any.
    pub fn span(&self) -> Option<Span> {
        match self {
            Origin::Spec(s)
            | Origin::Environment { span: s, .. }
            | Origin::Derived { from: s, .. }
            | Origin::Patch(s) => Some(*s),
            Origin::Default { .. } => None,
        }
    }
}

/// The origin of a value the plan traced to `span`: the service name's span
/// stands for a default (see `check`), a span inside the environment block
/// for an override.
fn origin_of(p: &Plan, span: Span, pointer: &str) -> Origin {
    if span == p.origin {
        return Origin::Default { setting: default_setting(pointer).to_string() };
    }
    match p.environment_block {
        Some(b) if b.file == span.file && b.start <= span.start && span.end <= b.end => {
            Origin::Environment { name: p.environment.clone(), span }
        }
        _ => Origin::Spec(span),
    }
}

/// The documented setting a defaulted pointer belongs to (the registry's
/// traced values).
fn default_setting(pointer: &str) -> &'static str {
    settings::traced_at(pointer).map_or("the service", |s| s.path)
}

/// Values derived from the service name (identity, selectors).
const DERIVED: &[&str] = &[
    "/metadata/name",
    "/metadata/labels",
    "/spec/selector",
    "/spec/template/metadata/labels",
    "/spec/scaleTargetRef",
    "/spec/template/spec/containers/0/name",
];

impl Object {
    /// The file name inside an environment folder, e.g. `deployment-backend-api.yaml`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.file_stem(), self.name)
    }

    /// The spec span that set the value at `pointer`: its own record or its
    /// nearest recorded ancestor's, else the service.
    pub fn span_at(&self, pointer: &str) -> Span {
        let mut p = pointer.to_string();
        loop {
            if let Some(o) = self.provenance.get(&p) {
                return o.span().unwrap_or(self.origin);
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return self.origin,
            }
        }
    }

    /// Whether a patch wrote or removed `pointer` or one of its ancestors.
    pub fn patched_at(&self, pointer: &str) -> bool {
        self.patched.iter().any(|p| pointer == p || pointer.starts_with(&format!("{p}/")))
    }
}

/// `value.pointer(ptr)` for the constant pointers of this module, which
/// have no `~` escapes: without the escape handling, which allocates twice
/// per segment (and lowering looks up some thirty pointers per object).
fn at<'v>(value: &'v serde_json::Value, ptr: &str) -> Option<&'v serde_json::Value> {
    if ptr.contains('~') {
        // An escaped segment (`app.kubernetes.io~1version`): rare enough
        // for the general reader.
        return value.pointer(ptr);
    }
    ptr.split('/').skip(1).try_fold(value, |v, seg| match v {
        serde_json::Value::Object(m) => m.get(seg),
        serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The object `t` (its kind is its type's) with the provenance of its
/// values: derived names, the documented settings, and `spans`.
pub(crate) fn object<T: Serialize + OfKind>(name: &str, p: &Plan, t: &T, spans: BTreeMap<String, Span>) -> Object {
    let kind = T::KIND;
    let value = serde_json::to_value(t).unwrap_or(serde_json::Value::Null);
    let mut provenance: BTreeMap<String, Origin> = BTreeMap::new();
    for ptr in DERIVED {
        if at(&value, ptr).is_some() {
            provenance.insert((*ptr).to_string(), Origin::Derived { from: p.origin, what: "the service name" });
        }
    }
    if let Some(ns) = at(&value, "/metadata/namespace") {
        let origin = match p.settings.get("namespace") {
            Some(s) => origin_of(p, *s, "/metadata/namespace"),
            None => Origin::Derived {
                from: p.environment_block.unwrap_or(p.origin),
                what: if ns.as_str() == Some(p.environment.as_str()) { "the environment name" } else { "the service" },
            },
        };
        provenance.insert("/metadata/namespace".to_string(), origin);
    }
    // A legacy selector is written, not derived.
    if let Some(span) = p.settings.get("selector") {
        for ptr in ["/spec/selector", "/spec/template/metadata/labels"] {
            if at(&value, ptr).is_some() {
                provenance.insert(ptr.to_string(), origin_of(p, *span, ptr));
            }
        }
    }
    // Fields that one documented setting decides: the spec's span when the
    // setting is written, its default otherwise.
    for &(setting, k, ptr) in settings::fields() {
        if settings::applies(k, ptr, kind) && at(&value, ptr).is_some() {
            let origin = match p.settings.get(setting.path) {
                Some(s) => origin_of(p, *s, ptr),
                None => Origin::Default { setting: setting.path.to_string() },
            };
            provenance.insert(ptr.to_string(), origin);
        }
    }
    for (ptr, span) in spans {
        let origin = origin_of(p, span, &ptr);
        provenance.insert(ptr, origin);
    }
    if kind == Kind::Deployment {
        let image = "/spec/template/spec/containers/0/image";
        // The tag is what changes between environments: point at it when written.
        if let (Some(tag), Some(Origin::Spec(_))) = (p.settings.get("image.tag"), provenance.get(image)) {
            let origin = origin_of(p, *tag, image);
            if matches!(origin, Origin::Environment { .. }) {
                provenance.insert(image.to_string(), origin);
            }
        }
        if let (None, Some(a)) = (at(&value, "/spec/replicas"), &p.autoscale) {
            provenance.insert(
                "/spec/replicas".to_string(),
                Origin::Derived { from: a.span, what: "the autoscaler, which owns the replica count" },
            );
        }
    }
    Object { kind, name: name.to_string(), value, origin: p.origin, provenance, patched: Vec::new() }
}

pub(crate) fn int_or_percent(v: IntOrPercent) -> IntOrString {
    match v {
        IntOrPercent::Int(n) => IntOrString::Int(i32::try_from(n).unwrap_or(i32::MAX)),
        IntOrPercent::Percent(n) => IntOrString::String(format!("{n}%")),
    }
}

fn i32_of(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// Lower one plan into its objects, in a fixed order.
pub fn lower(p: &Plan) -> Vec<Object> {
    let mut out = Vec::new();
    out.extend(config::lower(p));
    out.extend(security::service_account(p));
    out.extend(ports::services(p));
    match &p.delivery {
        Some(d) => {
            out.push(rollout::rollout(p, d));
            out.extend(d.analyses.iter().map(|a| rollout::analysis_template(p, a)));
        }
        None => out.push(workload::deployment(p)),
    }
    out.extend(scaling::autoscaler(p));
    out.extend(scaling::disruption_budget(p));
    out.extend(route::lower(p));
    if let Some(m) = &p.monitoring {
        out.extend(monitoring::lower(p, m));
    }
    out.extend(jobs::lower(p));
    out.extend(network::policy(p));
    out.extend(network::job_policies(p));
    if !p.objects.is_empty() {
        for o in &mut out {
            metadata::object_metadata(p, o);
        }
    }
    out
}
