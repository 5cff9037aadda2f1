//! The settings that shape the generated objects themselves rather than the
//! pod: their names, the Services, the selector, per-object metadata
//! (docs/language.md, "Objects").

use super::Map;
use crate::source::{Span, Spanned};

/// `names { … }`: names of generated objects other than the service's own.
/// Every field is `None` when it takes its default (derived once, in
/// `check::metadata::names`).
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub node: Option<Span>,
    /// The Deployment or Rollout (and the HPA's target).
    pub workload: Option<Spanned<String>>,
    /// The main Service: blue-green's active, canary's stable Service.
    pub service: Option<Spanned<String>>,
    pub preview_service: Option<Spanned<String>>,
    /// `canary-service #false`: a canary without a second Service.
    pub canary_service: Option<Spanned<Option<String>>>,
    pub autoscaler: Option<Spanned<String>>,
    pub disruption_budget: Option<Spanned<String>>,
    pub service_monitor: Option<Spanned<String>>,
    pub prometheus_rule: Option<Spanned<String>>,
}

/// `object OBJECT { labels { … } annotations { … } }`: metadata of one
/// generated object only, on top of the service's.
#[derive(Clone, Debug)]
pub struct ObjectMetadata {
    /// `workload`, `service-account`, … or an `expose` name.
    pub name: Spanned<String>,
    pub labels: Map<Spanned<String>>,
    pub annotations: Map<Spanned<String>>,
}

/// `expose NAME type="LoadBalancer" { port https 443 target=http }`: a
/// Service beside the main one, or (named like it) the main Service's own
/// type and ports.
#[derive(Clone, Debug)]
pub struct Expose {
    pub name: Spanned<String>,
    /// `expose NAME #false` in an environment: not there.
    pub enabled: Option<Spanned<bool>>,
    /// `ClusterIP`, `NodePort` or `LoadBalancer`.
    pub type_: Option<Spanned<String>>,
    /// `clusterIP: None`.
    pub headless: Option<Spanned<bool>>,
    pub external_traffic_policy: Option<Spanned<String>>,
    /// `None`: every `port`, one to one; replaced as a whole.
    pub ports: Option<Spanned<Vec<ExposePort>>>,
}

/// `port https 443 target=http node-port=30443`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposePort {
    pub name: Spanned<String>,
    pub number: Spanned<u16>,
    /// The container port (by name) it forwards to; default: the one named like it.
    pub target: Option<Spanned<String>>,
    pub node_port: Option<Spanned<u16>>,
}
