//! The plan's generated objects as objects: their names, derived once here
//! from the spec and used by every reference (docs/language.md, "Objects").

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
