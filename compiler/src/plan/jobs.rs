//! Jobs, CronJobs, ConfigMaps and ExternalSecrets of a service, resolved.

use std::collections::BTreeMap;

use super::PlanContainer;
use crate::source::Span;

/// A `job` or `cron-job`: its container resolved by the container blocks'
/// resolvers, over the service's image, environment and mounts.
#[derive(Clone, Debug)]
pub struct PlanJob {
    /// The object's name: `<service>-<job>` (a Job that is not a hook also
    /// gets a hash of its pod template when lowered: its template is
    /// immutable, so a changed Job is a new one).
    pub name: String,
    /// The `job NAME` token.
    pub span: Span,
    pub container: PlanContainer,
    /// `Never` or `OnFailure`.
    pub restart: &'static str,
    pub backoff_limit: Option<u32>,
    /// `activeDeadlineSeconds`.
    pub deadline: Option<u64>,
    /// `ttlSecondsAfterFinished`.
    pub ttl: Option<u64>,
    pub hook: Option<PlanHook>,
    /// `Some` for a `cron-job`.
    pub cron: Option<PlanCron>,
    /// `Some` when a NetworkPolicy covers its pods: the service's egress
    /// and DNS, with the job's own `network { egress … }` (no calls,
    /// callers or ingress).
    pub network: Option<super::PlanNetwork>,
}

/// An Argo CD resource hook, as its annotations spell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanHook {
    /// `PreSync`, `Sync`, `PostSync`, `SyncFail`.
    pub phase: &'static str,
    /// `BeforeHookCreation`, `HookSucceeded`, `HookFailed`.
    pub delete: &'static str,
    pub wave: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanCron {
    pub schedule: String,
    pub time_zone: Option<String>,
    /// `Forbid`, `Allow`, `Replace`.
    pub concurrency: &'static str,
    pub keep_succeeded: Option<u32>,
    pub keep_failed: Option<u32>,
    pub suspend: Option<bool>,
    pub starting_deadline: Option<u64>,
}

/// A ConfigMap, with its final (hashed) name.
#[derive(Clone, Debug)]
pub struct PlanConfigMap {
    pub name: String,
    /// The `config-map NAME` token.
    pub span: Span,
    /// UTF-8 keys.
    pub data: BTreeMap<String, String>,
    /// Keys whose file is not UTF-8 text.
    pub binary: BTreeMap<String, Vec<u8>>,
}

/// An ExternalSecret and the Secret it keeps.
#[derive(Clone, Debug)]
pub struct PlanExternalSecret {
    pub name: String,
    pub span: Span,
    pub store: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub store_kind: String,
    /// Go duration syntax (`1h`, `15m`).
    pub refresh: String,
    pub keys: Vec<PlanRemoteKey>,
    pub extract: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PlanRemoteKey {
    pub key: String,
    pub remote: String,
    pub property: Option<String>,
    pub version: Option<String>,
}
