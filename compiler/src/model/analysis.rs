//! The typed spec of custom analysis gates (`query`) and the arguments
//! their queries read (`arg`), in the `rollout` block.

use crate::condition;
use crate::source::Spanned;

/// `query NAME expr="…" success="…" failure="…"`.
#[derive(Clone, Debug)]
pub struct QueryGate {
    /// The PromQL as written (`${selector}`, `${window}`, `{{args.NAME}}` unexpanded).
    pub expr: Spanned<String>,
    pub success: Option<Spanned<condition::Expr>>,
    pub failure: Option<Spanned<condition::Expr>>,
}

/// `arg NAME value="…"`, `arg NAME pod-template-hash="latest"` or
/// `arg NAME field="metadata.labels['team']"`.
#[derive(Clone, Debug)]
pub struct AnalysisArg {
    pub name: Spanned<String>,
    pub source: ArgSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// A literal value.
    Value(String),
    /// `podTemplateHashValue`: `Latest` (the new version) or `Stable`.
    PodTemplateHash(&'static str),
    /// `fieldRef.fieldPath` of the Rollout: `metadata.name`,
    /// `metadata.namespace` or `metadata.labels['KEY']`.
    Field(String),
}
