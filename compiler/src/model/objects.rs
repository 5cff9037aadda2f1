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
