//! `job NAME { … }` and `cron-job NAME schedule="…" { … }`: work the
//! service runs to completion, beside its pods (docs/language.md#jobs).

use super::{Body, Duration};
use crate::source::{Span, Spanned};

/// A Job or a CronJob as one layer writes it: its own settings, and a body
/// of container settings (`image`, `command`, `args`, `env`, `env-from`,
/// `resources`, `volumes`) over the service's container.
#[derive(Clone, Debug)]
pub struct Job {
    pub name: Spanned<String>,
    /// The `job` / `cron-job` token.
    pub node: Span,
    /// `cron-job`: a CronJob, run on `schedule`.
    pub cron: bool,
    /// `schedule="0 3 * * *"`: five cron fields or a macro (`@daily`).
    pub schedule: Option<Spanned<String>>,
    /// `time-zone="Europe/Paris"`: an IANA time zone name.
    pub time_zone: Option<Spanned<String>>,
    /// `hook pre-sync …`: an Argo CD resource hook.
    pub hook: Option<Hook>,
    pub backoff_limit: Option<Spanned<u32>>,
    /// `deadline "10m"`: `activeDeadlineSeconds`.
    pub deadline: Option<Spanned<Duration>>,
    /// `ttl "1h"`: `ttlSecondsAfterFinished`.
    pub ttl: Option<Spanned<Duration>>,
    /// `restart never|on-failure`: the pod's `restartPolicy`.
    pub restart: Option<Spanned<String>>,
    /// `concurrency forbid|allow|replace` (cron-job).
    pub concurrency: Option<Spanned<String>>,
    /// `history succeeded=3 failed=1` (cron-job).
    pub keep_succeeded: Option<Spanned<u32>>,
    pub keep_failed: Option<Spanned<u32>>,
    /// `suspend #true` (cron-job).
    pub suspend: Option<Spanned<bool>>,
    /// `starting-deadline "5m"` (cron-job): `startingDeadlineSeconds`.
    pub starting_deadline: Option<Spanned<Duration>>,
    /// `container-name NAME`: the container's name (default: the job's name).
    pub container_name: Option<Spanned<String>>,
    /// `network { egress … }`: what the job's pods reach beyond the
    /// service's egress; `network #false`: no policy for them.
    pub network: Option<super::Network>,
    pub body: Body,
}

impl Job {
    /// A job that says nothing but its name.
    pub fn new(name: Spanned<String>, node: Span, cron: bool) -> Job {
        Job {
            name,
            node,
            cron,
            schedule: None,
            time_zone: None,
            hook: None,
            backoff_limit: None,
            deadline: None,
            ttl: None,
            restart: None,
            concurrency: None,
            keep_succeeded: None,
            keep_failed: None,
            suspend: None,
            starting_deadline: None,
            container_name: None,
            network: None,
            body: Body::default(),
        }
    }
}

/// `hook pre-sync delete="hook-succeeded" wave=-1`: when Argo CD runs the
/// job during a sync, when it deletes it, and its sync wave.
#[derive(Clone, Debug, PartialEq)]
pub struct Hook {
    pub node: Span,
    /// `pre-sync`, `sync`, `post-sync` or `sync-fail`.
    pub phase: Spanned<String>,
    /// `before-hook-creation`, `hook-succeeded` or `hook-failed`.
    pub delete: Option<Spanned<String>>,
    pub wave: Option<Spanned<i64>>,
}
