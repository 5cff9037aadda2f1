//! `gitops { … }`: the Argo CD or Flux objects of a folder build (docs/gitops.md).

use super::*;

/// `gitops argocd { … }` or `gitops flux { … }` as one layer writes it:
/// every setting `None` when the layer does not give it.
#[derive(Clone, Debug)]
pub struct Gitops {
    /// The `gitops` node's name token.
    pub node: Span,
    /// `argocd` or `flux`; `Some(None)` for `gitops #false` (the service is
    /// not deployed by an engine); `None` refines the engine a layer below chose.
    pub engine: Option<Spanned<Option<Engine>>>,
    /// Argo CD: the repository it reads (`repo URL revision=REV`).
    pub repo: Option<Spanned<String>>,
    pub revision: Option<Spanned<String>>,
    /// The output folder's path in the repository.
    pub path: Option<Spanned<String>>,
    /// Where the engine's objects live (`argocd`, `flux-system`).
    pub namespace: Option<Spanned<String>>,
    /// The ApplicationSet's name; the Flux Kustomizations' prefix.
    pub name: Option<Spanned<String>>,
    /// Argo CD: one ApplicationSet (`#true`) or an Application each.
    pub application_set: Option<Spanned<bool>>,
    pub project: Option<Spanned<String>>,
    pub create_project: Option<Spanned<bool>>,
    /// Flux: the source (`source NAME kind=… namespace=…`).
    pub source: Option<Spanned<String>>,
    pub source_kind: Option<Spanned<String>>,
    pub source_namespace: Option<Spanned<String>>,
    /// `sync …`: Argo CD's automated sync; prune for both; Flux's timing.
    pub automated: Option<Spanned<bool>>,
    pub prune: Option<Spanned<bool>>,
    pub self_heal: Option<Spanned<bool>>,
    pub interval: Option<Spanned<Duration>>,
    pub wait: Option<Spanned<bool>>,
    pub timeout: Option<Spanned<Duration>>,
    /// Argo CD: `sync-options "ServerSideApply=true" …`, as written.
    pub sync_options: Option<Spanned<Vec<String>>>,
    /// `cluster ENV NAME`: each environment's cluster, by environment name.
    pub clusters: Map<Cluster>,
}

impl Gitops {
    /// A block that gives nothing (what a layer without `gitops` gives).
    pub fn new(node: Span) -> Gitops {
        Gitops {
            node,
            engine: None,
            repo: None,
            revision: None,
            path: None,
            namespace: None,
            name: None,
            application_set: None,
            project: None,
            create_project: None,
            source: None,
            source_kind: None,
            source_namespace: None,
            automated: None,
            prune: None,
            self_heal: None,
            interval: None,
            wait: None,
            timeout: None,
            sync_options: None,
            clusters: Map::new(),
        }
    }
}

/// The engine a `gitops` block deploys with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    ArgoCd,
    Flux,
}

impl Engine {
    /// The argument names (`gitops argocd`).
    pub const ALL: [(&'static str, Engine); 2] = [("argocd", Engine::ArgoCd), ("flux", Engine::Flux)];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::ArgoCd => "argocd",
            Engine::Flux => "flux",
        }
    }
}

/// `cluster production "prod-eu"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub environment: Spanned<String>,
    pub name: Spanned<String>,
}
