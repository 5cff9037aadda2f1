//! The plan's generated objects as objects: their names, derived once here
//! from the spec and used by every reference (docs/language.md, "Objects").

use std::collections::BTreeMap;

use crate::source::Span;

/// An object name, with the span of the spec value that set it (`None`:
/// derived from the service name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanName {
    pub name: String,
    pub span: Option<Span>,
}

impl PlanName {
    pub fn derived(name: String) -> PlanName {
        PlanName { name, span: None }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// The names of the generated objects, each derived once: every reference
/// (the HPA's target, the Rollout's Services, the `job` of a query) reads
/// them here.
#[derive(Clone, Debug)]
pub struct PlanNames {
    /// The Deployment or Rollout.
    pub workload: PlanName,
    /// The main Service (blue-green's active, canary's stable Service).
    pub service: PlanName,
    pub preview_service: PlanName,
    /// `None`: a canary without a canary Service.
    pub canary_service: Option<PlanName>,
    pub autoscaler: PlanName,
    pub disruption_budget: PlanName,
    pub service_monitor: PlanName,
    pub prometheus_rule: PlanName,
}

/// One Service: the main one (from `port`, or its `expose`) or another
/// `expose`. The preview or canary Service is the main one's copy
/// (`lower::ports`).
#[derive(Clone, Debug)]
pub struct PlanService {
    pub name: PlanName,
    /// Another Service than the main one (`expose`), which the
    /// ServiceMonitor does not scrape.
    pub extra: bool,
    /// `ClusterIP`, `NodePort` or `LoadBalancer`.
    pub type_: String,
    pub headless: bool,
    pub external_traffic_policy: Option<String>,
    pub ports: Vec<PlanServicePort>,
    /// The `expose` name, or the service name for the main Service.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PlanServicePort {
    pub name: String,
    pub port: u16,
    /// The container port's name.
    pub target: String,
    /// `target=` written as a number: `targetPort` is that number, not the name.
    pub target_number: Option<u16>,
    pub protocol: String,
    pub node_port: Option<u16>,
    pub span: Span,
}

/// `object OBJECT { … }`: labels and annotations of one object, on top of
/// the service's, each with its spec span.
#[derive(Clone, Debug, Default)]
pub struct PlanObjectMetadata {
    pub labels: BTreeMap<String, (String, Span)>,
    pub annotations: BTreeMap<String, (String, Span)>,
}
