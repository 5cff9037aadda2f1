//! `blue-green` and `canary`: progressive delivery and its gates (docs/rollouts.md).

use super::*;

/// `blue-green deploy-budget="15m" { … }`.
#[derive(Clone, Debug)]
pub struct BlueGreen {
    pub node: Span,
    /// `blue-green #false` in an environment turns it off there.
    pub enabled: Option<Spanned<bool>>,
    pub deploy_budget: Option<Spanned<Duration>>,
    pub auto_promote: Option<AutoPromote>,
    pub rollback_window: Option<Spanned<Duration>>,
    pub preview_replicas: Option<Spanned<u32>>,
    pub pre_promotion: Option<Analysis>,
    pub post_promotion: Option<Analysis>,
}

/// `auto-promote #false`, `auto-promote after="10m"`.
#[derive(Clone, Debug)]
pub struct AutoPromote {
    pub node: Span,
    pub enabled: Option<Spanned<bool>>,
    pub after: Option<Spanned<Duration>>,
}

/// `canary deploy-budget="30m" { … }`.
#[derive(Clone, Debug)]
pub struct Canary {
    pub node: Span,
    pub enabled: Option<Spanned<bool>>,
    pub deploy_budget: Option<Spanned<Duration>>,
    pub auto_promote: Option<Spanned<bool>>,
    pub max_surge: Option<Spanned<IntOrPercent>>,
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
    pub traffic: Option<Traffic>,
    /// `analysis { … }` directly in `canary`: runs in the background for the whole update.
    pub background: Option<Analysis>,
    /// `steps { … }`, with the span of the `steps` node.
    pub steps: Option<Spanned<Vec<Step>>>,
}

/// `traffic nginx ingress="backend-api"`.
#[derive(Clone, Debug)]
pub struct Traffic {
    pub node: Span,
    pub provider: Spanned<String>,
    pub ingress: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub enum Step {
    SetWeight(Spanned<u32>),
    /// `pause` (indefinite: waits for `kubectl argo rollouts promote`),
    /// `pause "5m"`, or `pause 300` (whole seconds, written as the integer).
    Pause {
        node: Span,
        duration: Option<Spanned<Duration>>,
        /// Given as an integer of seconds: the Rollout says `duration: 300`.
        bare: bool,
    },
    Analysis(Analysis),
}

/// A set of gates measured together (one AnalysisTemplate).
#[derive(Clone, Debug)]
pub struct Analysis {
    pub node: Span,
    /// `template="NAME"`: the AnalysisTemplate's name (default derived from
    /// the service and the block: `NAME-canary-background`, …).
    pub template: Option<Spanned<String>>,
    pub gates: Vec<Gate>,
    /// `arg NAME …`: values the Rollout passes, read as `{{args.NAME}}`.
    pub args: Vec<AnalysisArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateKind {
    SuccessRate,
    Latency,
    /// `query NAME expr=… success=… failure=…`: the user's PromQL.
    Query,
    /// `job NAME { … }`: a Job of the user's, passing when it completes.
    Job,
}

/// `success-rate at-least=0.95 interval="60s" count=5 failure-limit=3` or
/// `latency quantile=0.95 at-most="500ms" …`.
#[derive(Clone, Debug)]
pub struct Gate {
    pub kind: GateKind,
    pub name: Spanned<String>,
    pub at_least: Option<Spanned<f64>>,
    pub quantile: Option<Spanned<f64>>,
    pub at_most: Option<Spanned<Duration>>,
    pub interval: Option<Spanned<Duration>>,
    pub count: Option<Spanned<u32>>,
    /// `count="whole-update"`: no count, measured until the update ends.
    pub whole_update: Option<Span>,
    pub failure_limit: Option<Spanned<u32>>,
    pub inconclusive_limit: Option<Spanned<u32>>,
    /// The query and conditions of a `query` gate.
    pub query: Option<Box<QueryGate>>,
    /// The Job of a `job` gate: its settings and container, as a `job` block's.
    pub job: Option<Box<Job>>,
}

impl Gate {
    /// A gate of `kind` named `name` that says nothing else yet.
    pub fn new(kind: GateKind, name: Spanned<String>) -> Gate {
        Gate {
            kind,
            name,
            at_least: None,
            quantile: None,
            at_most: None,
            interval: None,
            count: None,
            whole_update: None,
            failure_limit: None,
            inconclusive_limit: None,
            query: None,
            job: None,
        }
    }
}
