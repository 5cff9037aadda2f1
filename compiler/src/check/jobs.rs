//! `job` and `cron-job`: work run to completion beside the service. A
//! job's container is resolved by the container blocks' resolvers (image,
//! resources, env, command, volumes), over the service's image,
//! environment and mounts, so it runs the same code with the same
//! configuration; its pod gets the service's hardening when lowered.

use super::merge::{Merger, layer, merge_map, or};
use super::{Cx, command, env, image, resources, volumes};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Job, Map, ProbeSetting};
use crate::plan::{PlanContainer, PlanCron, PlanEngine, PlanGitops, PlanHook, PlanJob, Role};
use crate::settings as s;

/// The longest Job name: its pods carry it as the `job-name` label value.
const JOB_NAME_MAX: usize = 63;
/// The longest CronJob name: its Jobs are named `NAME-<11 digits>`.
const CRON_JOB_NAME_MAX: usize = 52;
/// The suffix a Job that is not a hook gets: `-` and ten hex digits.
pub const HASH_SUFFIX: usize = 11;

/// Job by job, by name: an upper layer's job refines the one below (its
/// settings one by one, its container body like a service's), or adds one.
pub(super) fn merge(c: &mut Merger<'_>, base: &Map<Job>, over: &Map<Job>) -> Map<Job> {
    let mut out = base.clone();
    for (name, o) in over {
        let Some(b) = base.get(name) else {
            c.note(s::JOB.with_key(name), &o.name, None);
            out.insert(name.clone(), o.clone());
            continue;
        };
        if b.cron != o.cron {
            c.diags().push(
                Diagnostic::error(
                    Code::JobSettingMisplaced,
                    format!("`{name}` is {} below and {} here", kind(b.cron), kind(o.cron)),
                )
                .at(o.node, "declared again as the other kind")
                .also(b.node, "first declared here")
                .help("keep the kind of the job it refines, or give the new one another name"),
            );
            continue;
        }
        let key = s::JOB.with_key(name);
        let body = c.within(&key, |c| layer(&b.body, &o.body, c));
        let pick = |c: &mut Merger<'_>, setting: &str| c.set_paths.push(format!("{key}.{setting}"));
        for (written, setting) in [
            (o.schedule.is_some(), "schedule"),
            (o.time_zone.is_some(), "time-zone"),
            (o.hook.is_some(), "hook"),
            (o.backoff_limit.is_some(), "backoff-limit"),
            (o.deadline.is_some(), "deadline"),
            (o.ttl.is_some(), "ttl"),
            (o.restart.is_some(), "restart"),
            (o.concurrency.is_some(), "concurrency"),
            (o.keep_succeeded.is_some() || o.keep_failed.is_some(), "history"),
            (o.suspend.is_some(), "suspend"),
            (o.starting_deadline.is_some(), "starting-deadline"),
            (o.container_name.is_some(), "container-name"),
        ] {
            if written {
                pick(c, setting);
            }
        }
        let Job {
            name: o_name,
            node,
            cron,
            schedule,
            time_zone,
            hook,
            backoff_limit,
            deadline,
            ttl,
            restart,
            concurrency,
            keep_succeeded,
            keep_failed,
            suspend,
            starting_deadline,
            container_name,
            network,
            body: _,
        } = o;
        out.insert(
            name.clone(),
            Job {
                name: o_name.clone(),
                node: *node,
                cron: *cron,
                schedule: or(schedule, &b.schedule),
                time_zone: or(time_zone, &b.time_zone),
                hook: or(hook, &b.hook),
                backoff_limit: or(backoff_limit, &b.backoff_limit),
                deadline: or(deadline, &b.deadline),
                ttl: or(ttl, &b.ttl),
                restart: or(restart, &b.restart),
                concurrency: or(concurrency, &b.concurrency),
                keep_succeeded: or(keep_succeeded, &b.keep_succeeded),
                keep_failed: or(keep_failed, &b.keep_failed),
                suspend: or(suspend, &b.suspend),
                starting_deadline: or(starting_deadline, &b.starting_deadline),
                container_name: or(container_name, &b.container_name),
                network: super::network::merge(&b.network, network),
                body,
            },
        );
    }
    out
}

fn word(cron: bool) -> &'static str {
    if cron { "cron-job" } else { "job" }
}

fn kind(cron: bool) -> &'static str {
    if cron { "a `cron-job`" } else { "a `job`" }
}

/// Every job of the merged body `b`, its container over `main` (the
/// service's own, resolved).
pub(super) fn resolve(
    cx: &Cx<'_>,
    b: &Body,
    main: &PlanContainer,
    gitops: Option<&PlanGitops>,
    diags: &mut Diagnostics,
) -> Vec<PlanJob> {
    let mut out = Vec::new();
    for j in b.jobs.values() {
        misplaced(j, diags);
        let name = format!("{}-{}", cx.service, j.name.value);
        name_fits(j, &name, limit(j), diags);
        if let (Some(h), Some(PlanGitops { engine: PlanEngine::Flux { .. }, .. })) = (&j.hook, gitops) {
            diags.push(
                Diagnostic::error(Code::HookWithoutArgoCd, format!("job `{}` is an Argo CD hook, but Flux deploys the service", j.name.value))
                    .at(h.node, "only Argo CD runs hooks")
                    .help("Flux would apply the Job beside the new version, not before it: drop `hook` and run the migration from an `init-container`, or deploy with `gitops argocd`"),
            );
        }
        let cron = j.cron.then(|| cron(j, diags)).flatten();
        out.push(PlanJob {
            name,
            span: j.name.span,
            container: container(cx, b, j, main, diags),
            restart: restart(j),
            backoff_limit: j.backoff_limit.as_ref().map(|v| v.value),
            deadline: j.deadline.as_ref().map(|d| d.value.seconds()),
            ttl: j.ttl.as_ref().map(|d| d.value.seconds()),
            hook: j.hook.as_ref().map(|h| PlanHook {
                phase: match h.phase.value.as_str() {
                    "sync" => "Sync",
                    "post-sync" => "PostSync",
                    "sync-fail" => "SyncFail",
                    _ => "PreSync",
                },
                delete: match h.delete.as_ref().map(|d| d.value.as_str()) {
                    Some("hook-succeeded") => "HookSucceeded",
                    Some("hook-failed") => "HookFailed",
                    _ => "BeforeHookCreation",
                },
                wave: h.wave.as_ref().map(|w| w.value),
            }),
            cron,
            network: super::network::for_job(b.network.as_ref(), j.network.as_ref(), diags),
        });
    }
    out
}

/// The schedule and the CronJob's own settings.
fn cron(j: &Job, diags: &mut Diagnostics) -> Option<PlanCron> {
    let Some(schedule) = &j.schedule else {
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("cron-job `{}` has no schedule", j.name.value))
                .at(j.name.span, "needs a schedule")
                .help(format!("write `cron-job {} schedule=\"0 3 * * *\" {{ … }}`", j.name.value)),
        );
        return None;
    };
    Some(PlanCron {
        schedule: schedule.value.clone(),
        time_zone: j.time_zone.as_ref().map(|t| t.value.clone()),
        concurrency: match j.concurrency.as_ref().map(|c| c.value.as_str()) {
            Some("allow") => "Allow",
            Some("replace") => "Replace",
            _ => "Forbid",
        },
        keep_succeeded: j.keep_succeeded.as_ref().map(|v| v.value),
        keep_failed: j.keep_failed.as_ref().map(|v| v.value),
        suspend: j.suspend.as_ref().map(|v| v.value),
        starting_deadline: j.starting_deadline.as_ref().map(|d| d.value.seconds()),
    })
}

/// SVC0381: a CronJob's settings on a job, a hook on a cron-job, and ports
/// or probes on a container that runs to completion.
fn misplaced(j: &Job, diags: &mut Diagnostics) {
    let mut report = |at, what: &str, help: &str| {
        diags.push(
            Diagnostic::error(Code::JobSettingMisplaced, format!("{what} in {} `{}`", word(j.cron), j.name.value))
                .at(at, "not for this kind of job")
                .also(j.node, "declared here")
                .help(help.to_string()),
        );
    };
    if j.cron {
        if let Some(h) = &j.hook {
            report(h.node, "`hook`", "a hook runs once per sync; a CronJob runs on its schedule: make it a `job`");
        }
    } else {
        let cron_only = [
            j.schedule.as_ref().map(|v| v.span),
            j.concurrency.as_ref().map(|v| v.span),
            j.keep_succeeded.as_ref().or(j.keep_failed.as_ref()).map(|v| v.span),
            j.suspend.as_ref().map(|v| v.span),
            j.starting_deadline.as_ref().map(|v| v.span),
        ];
        if let Some(at) = cron_only.into_iter().flatten().next() {
            report(
                at,
                "a CronJob's setting",
                "`schedule`, `concurrency`, `history`, `suspend` and `starting-deadline` belong to a `cron-job`",
            );
        }
    }
    if let Some(p) = j.body.ports.values().next() {
        report(p.name.span, "a port", "a job serves nothing: remove the port");
    }
    let probe =
        [&j.body.probes.startup, &j.body.probes.liveness, &j.body.probes.readiness].into_iter().find_map(|p| match p {
            Some(ProbeSetting::On(p)) => Some(p.node),
            _ => None,
        });
    if let Some(at) = probe {
        report(
            at,
            "a probe",
            "a job runs to completion and is not probed: use `deadline` to bound how long it may run",
        );
    }
}

fn restart(j: &Job) -> &'static str {
    match j.restart.as_ref().map(|r| r.value.as_str()) {
        Some("on-failure") => "OnFailure",
        _ => "Never",
    }
}

/// The longest name of a job's object, and why.
fn limit(j: &Job) -> (usize, &'static str) {
    match (j.cron, j.hook.is_some()) {
        (true, _) => (CRON_JOB_NAME_MAX, "a CronJob names its Jobs `NAME-<11 digits>`, which must fit 63 characters"),
        (false, true) => (JOB_NAME_MAX, "a Job's name is the `job-name` label of its pods, at most 63 characters"),
        (false, false) => (
            JOB_NAME_MAX - HASH_SUFFIX,
            "a Job that is not a hook is named with a hash of its pod template (11 characters), and a Job's name is a label value of at most 63",
        ),
    }
}

/// SVC0380: the object name must fit the limits of its kind.
fn name_fits(j: &Job, name: &str, (max, why): (usize, &str), diags: &mut Diagnostics) {
    if name.len() > max {
        diags.push(
            Diagnostic::error(
                Code::JobNameTooLong,
                format!("the {} `{name}` is {} characters long", if j.cron { "CronJob" } else { "Job" }, name.len()),
            )
            .at(j.name.span, format!("at most {max} characters with the service's name"))
            .help(format!(
                "shorten the job's name to {} characters or fewer",
                max.saturating_sub(name.len() - j.name.value.len())
            ))
            .note(why),
        );
    }
}

/// How long a job gate's Job may run when it says nothing (`deadline`):
/// Argo Rollouts waits for a measurement's Job without a limit of its own.
pub const ANALYSIS_DEADLINE: u64 = 300;

/// The Job of an analysis gate (`job NAME { … }` in an analysis block), as
/// Argo Rollouts runs it at each measurement: a job of the service, its
/// container and pod built the same way. A failed run is the gate's
/// failure, so its pods are not retried (`backoff-limit` 0) unless it says
/// so, and it may not run forever (`deadline`, [`ANALYSIS_DEADLINE`]).
/// What Argo Rollouts' handling of the Job contradicts, a hook or a TTL,
/// is SVC0265; a CronJob's settings, ports and probes as in any job.
pub(super) fn analysis(cx: &Cx<'_>, b: &Body, j: &Job, main: &PlanContainer, diags: &mut Diagnostics) -> PlanJob {
    misplaced(j, diags);
    let refused = [
        (
            j.hook.as_ref().map(|h| h.node),
            "hook",
            "Argo Rollouts creates the Job at each measurement; Argo CD never applies it, so it runs in no sync",
        ),
        (
            j.ttl.as_ref().map(|t| t.span),
            "ttl",
            "Argo Rollouts deletes the Jobs of an analysis itself, keeping the last ones; a Job deleted before it read the outcome errors the measurement",
        ),
    ];
    for (at, what, why) in refused {
        if let Some(at) = at {
            diags.push(
                Diagnostic::error(
                    Code::AnalysisJobSetting,
                    format!("job gate `{}` cannot have `{what}`", j.name.value),
                )
                .at(at, "not for a job gate")
                .also(j.node, "runs at each measurement of the analysis")
                .help(format!("remove `{what}`"))
                .note(why),
            );
        }
    }
    let name = format!("{}-{}", cx.service, j.name.value);
    name_fits(
        j,
        &name,
        (
            JOB_NAME_MAX,
            "a job gate's pods carry `SERVICE-JOB` as their `app.kubernetes.io/name` label, a label value of at most 63 characters",
        ),
        diags,
    );
    PlanJob {
        name,
        span: j.name.span,
        container: container(cx, b, j, main, diags),
        restart: restart(j),
        backoff_limit: Some(j.backoff_limit.as_ref().map_or(0, |v| v.value)),
        deadline: Some(j.deadline.as_ref().map_or(ANALYSIS_DEADLINE, |d| d.value.seconds())),
        ttl: None,
        hook: None,
        cron: None,
        network: super::network::for_job(b.network.as_ref(), j.network.as_ref(), diags),
    }
}

/// The job's container: its own image or the service's (the tag
/// `--image-tag` gives included), the service's `env`, `env-from` and
/// volumes under its own, its own command, arguments and resources.
fn container(cx: &Cx<'_>, service: &Body, j: &Job, main: &PlanContainer, diags: &mut Diagnostics) -> PlanContainer {
    let inner = Cx { container: Some(&j.name.value), ..*cx };
    let (image, image_span, pull_policy) = match &j.body.image {
        Some(_) => {
            let i = image::resolve(&inner, j.body.image.as_ref(), diags);
            (i.reference, i.span, i.pull_policy)
        }
        None => (main.image.clone(), main.image_span, main.pull_policy.clone()),
    };
    let r = resources::resolve(&inner, &j.body.resources, diags);
    let (command, args) = command::resolve(&j.body.command, &j.body.args);
    let name = j.container_name.as_ref().unwrap_or(&j.name);
    PlanContainer {
        name: name.value.clone(),
        role: Role::Sidecar,
        span: name.span,
        image,
        image_span,
        pull_policy,
        ports: Vec::new(),
        requests: r.requests,
        limits: r.limits,
        probes: Vec::new(),
        env: env::resolve(&merge_map(&service.env, &j.body.env)),
        env_from: env::resolve_from(&merge_map(&service.env_from, &j.body.env_from)),
        command,
        args,
        volumes: volumes::resolve(&merge_map(&service.volumes, &j.body.volumes), diags),
    }
}
