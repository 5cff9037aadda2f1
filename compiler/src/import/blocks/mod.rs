//! The mappers: one per spec block, named like its `decode/` module. Each
//! reads the input objects, writes the spec nodes of its block and claims
//! the fields they carry. A mapper may be wrong or partial: the build
//! after it decides what is native, and the rest becomes a patch. Adding a
//! native mapping later is one change here, in the block's file.

mod command;
mod config;
mod containers;
mod env;
mod image;
mod jobs;
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

use serde_json::Value;

use super::Object;
use super::kdl;
use super::render::SpecNode;

pub use config::unhash;

/// Pod template and first container of a workload.
pub const POD: &str = "/spec/template/spec";
pub const CONTAINER: &str = "/spec/template/spec/containers/0";

/// What the mappers share: the objects of one environment of a workload
/// (the workload first), and what they wrote.
pub struct Cx<'a> {
    pub service: &'a str,
    /// `--harden`: svcc's identity selectors, no `selector` node.
    pub harden: bool,
    pub objects: &'a [Object],
    pub nodes: Vec<SpecNode>,
    /// (object index, pointer prefix, block).
    pub claims: Vec<(usize, String, &'static str)>,
    /// Fields svcc writes another way on purpose, with the reason the
    /// report gives: (object index, pointer, reason). The build's value
    /// stands for the input's there, so no patch brings the input's back.
    pub designed: Vec<(usize, String, String)>,
}

impl<'a> Cx<'a> {
    pub fn new(service: &'a str, objects: &'a [Object], harden: bool) -> Self {
        Cx { service, harden, objects, nodes: Vec::new(), claims: Vec::new(), designed: Vec::new() }
    }

    pub fn workload(&self) -> &'a Value {
        &self.objects[0].value
    }

    /// The value at a pointer of the workload.
    pub fn at(&self, p: &str) -> Option<&'a Value> {
        super::diff::get(self.workload(), p)
    }

    /// A string at a pointer of the workload.
    pub fn text(&self, p: &str) -> Option<&'a str> {
        self.at(p).and_then(Value::as_str)
    }

    /// The first object of a kind (its index too); the Service named like
    /// the workload comes first.
    pub fn first(&self, kind: &str) -> Option<(usize, &'a Value)> {
        let named = self.objects.iter().position(|o| o.kind == kind && o.name == self.service);
        let any = || self.objects.iter().position(|o| o.kind == kind);
        named.or_else(any).map(|i| (i, &self.objects[i].value))
    }

    pub fn node(&mut self, key: impl Into<String>, text: impl Into<String>) {
        self.nodes.push(SpecNode { key: key.into(), text: text.into() });
    }

    pub fn claim(&mut self, object: usize, prefix: impl Into<String>, block: &'static str) {
        self.claims.push((object, prefix.into(), block));
    }

    /// svcc writes the field at `pointer` of object `object` another way
    /// on purpose (a deprecated form in its current spelling): the report
    /// lists it as changed by design, with `reason`.
    pub fn designed(&mut self, object: usize, pointer: impl Into<String>, reason: impl Into<String>) {
        self.designed.push((object, pointer.into(), reason.into()));
    }
}

/// Run every mapper, in the order of the language reference.
pub fn map(cx: &mut Cx) {
    image::map(cx);
    metadata::map(cx);
    ports::map(cx);
    scaling::map(cx);
    resources::map(cx);
    probes::map(cx);
    env::map(cx);
    command::map(cx);
    containers::map(cx);
    volumes::map(cx);
    security::map(cx);
    lifecycle::map(cx);
    scheduling::map(cx);
    monitoring::map(cx);
    network::map(cx);
    route::map(cx);
    rollout::map(cx);
    jobs::map(cx);
    config::map(cx);
}

/// A KDL string literal.
pub fn s(v: &str) -> String {
    kdl::string(v)
}

/// A duration property from whole seconds.
pub fn secs(v: &Value) -> Option<String> {
    v.as_u64().map(|n| s(&format!("{n}s")))
}

/// Whole seconds as a duration in the largest unit that divides them (`300` → `5m`).
pub fn duration(n: u64) -> String {
    match n {
        0 => "0s".into(),
        _ if n.is_multiple_of(3600) => format!("{}h", n / 3600),
        _ if n.is_multiple_of(60) => format!("{}m", n / 60),
        _ => format!("{n}s"),
    }
}

/// A quantity: strings as written, numbers as their text.
pub fn quantity(v: &Value) -> Option<String> {
    match v {
        Value::String(x) => Some(s(x)),
        _ => None,
    }
}

/// A count or percentage (`1`, `"25%"`).
pub fn count(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(x) => Some(s(x)),
        _ => None,
    }
}

/// `{ KEY "VALUE" … }` from a string map, or `None` when a value is not a string.
pub fn map_block(m: &serde_json::Map<String, Value>) -> Option<String> {
    let mut parts = Vec::new();
    for (k, v) in m {
        parts.push(format!("{} {}", kdl::name(k), s(v.as_str()?)));
    }
    Some(format!("{{ {} }}", parts.join("; ")))
}
