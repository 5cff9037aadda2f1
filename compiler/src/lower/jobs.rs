//! `job` and `cron-job`: a Job or a CronJob whose pod template is the
//! service's, built by the same code (`workload::pod_template`), with the
//! job's container in place of the service's: the same security context,
//! service account, scheduling and hardening. Its pods carry labels no
//! selector of the service matches, so no Service sends them traffic and
//! no disruption budget counts them.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use super::{Object, object, workload_meta};
use crate::crd::{AnalysisJobSpec, JobMetric, JobMetricMetadata};
use crate::plan::{Plan, PlanJob};
use crate::source::Span;

/// Argo CD's resource hook annotations.
pub(super) const HOOK: &str = "argocd.argoproj.io/hook";
pub(super) const HOOK_DELETE: &str = "argocd.argoproj.io/hook-delete-policy";
pub(super) const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

/// The label every job's pods carry with the service's name.
const PART_OF: &str = "app.kubernetes.io/part-of";

/// The Jobs and CronJobs of the plan, in declaration order.
pub(super) fn lower(p: &Plan) -> Vec<Object> {
    p.jobs.iter().map(|j| if j.cron.is_some() { cron_job(p, j) } else { job(p, j) }).collect()
}

/// The plan of the job's pod: the service's, with the job's container
/// alone, its own identity labels, and no spread or anti-affinity over the
/// service's pods.
pub(super) fn pod_plan(p: &Plan, j: &PlanJob) -> Plan {
    let mut labels: BTreeMap<String, String> =
        p.labels.iter().filter(|(k, _)| !p.selector.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    labels.insert("app.kubernetes.io/name".to_string(), j.name.clone());
    labels.entry(PART_OF.to_string()).or_insert_with(|| p.service.clone());
    let mut jp = p.clone();
    jp.selector = BTreeMap::from([("app.kubernetes.io/name".to_string(), j.name.clone())]);
    jp.labels = labels;
    jp.container = j.container.clone();
    jp.containers = Vec::new();
    jp.affinity.anti.clear();
    // Scrape annotations name the service's metrics port, which a job lacks.
    jp.pod_annotations.retain(|k, _| !k.starts_with("prometheus.io/"));
    jp.jobs = Vec::new();
    jp
}

/// The pod template of a job, its restart policy set; the spans of its
/// values go into `prov` under `at` (where the template sits).
fn template(p: &Plan, j: &PlanJob, at: &str, prov: &mut BTreeMap<String, Span>) -> PodTemplateSpec {
    let jp = pod_plan(p, j);
    let mut own = BTreeMap::new();
    let mut t = super::pod_template(&jp, &mut own);
    for (ptr, span) in own {
        let rel = ptr.strip_prefix("/spec/template").unwrap_or(&ptr);
        prov.insert(format!("{at}{rel}"), span);
    }
    prov.insert(format!("{at}/spec/containers/0/name"), j.container.span);
    if let Some(spec) = &mut t.spec {
        spec.restart_policy = Some(j.restart.to_string());
        spec.topology_spread_constraints = None;
    }
    t
}

/// The job's spec around its pod template.
fn job_spec(j: &PlanJob, template: PodTemplateSpec) -> JobSpec {
    JobSpec {
        backoff_limit: j.backoff_limit.map(|n| super::i32_of(u64::from(n))),
        active_deadline_seconds: j.deadline.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        ttl_seconds_after_finished: j.ttl.map(super::i32_of),
        template,
        ..JobSpec::default()
    }
}

/// The Job's metadata: its pods' labels (the version label included:
/// which release ran it), the service's annotations, and the hook's.
fn meta(p: &Plan, j: &PlanJob, name: &str) -> ObjectMeta {
    let mut m = workload_meta(&pod_plan(p, j), name);
    if let Some(h) = &j.hook {
        let a = m.annotations.get_or_insert_with(BTreeMap::new);
        a.insert(HOOK.to_string(), h.phase.to_string());
        a.insert(HOOK_DELETE.to_string(), h.delete.to_string());
        if let Some(w) = h.wave {
            a.insert(SYNC_WAVE.to_string(), w.to_string());
        }
    }
    m
}

/// The Job of an analysis gate, as the AnalysisTemplate holds it (at the
/// JSON pointer `at`): Argo Rollouts creates a Job of this spec, with these
/// labels and annotations, at each measurement; its pod is a job's.
pub(super) fn analysis(p: &Plan, j: &PlanJob, at: &str, prov: &mut BTreeMap<String, Span>) -> JobMetric {
    let template = template(p, j, &format!("{at}/spec/template"), prov);
    let m = meta(p, j, &j.name);
    let spec = job_spec(j, template);
    JobMetric {
        metadata: JobMetricMetadata {
            annotations: m.annotations.unwrap_or_default(),
            labels: m.labels.unwrap_or_default(),
        },
        spec: AnalysisJobSpec {
            active_deadline_seconds: spec.active_deadline_seconds,
            backoff_limit: spec.backoff_limit,
            template: spec.template.into(),
        },
    }
}

/// A Job. A hook keeps its name (Argo CD deletes and recreates it on each
/// sync); any other Job is named with a hash of its pod template, since
/// the API server refuses a change to a Job's template: a new image or
/// configuration makes a new Job, which runs, and the old one is pruned.
fn job(p: &Plan, j: &PlanJob) -> Object {
    let mut prov = BTreeMap::new();
    let template = template(p, j, "/spec/template", &mut prov);
    let name = match &j.hook {
        Some(_) => j.name.clone(),
        None => {
            let text = serde_json::to_string(&template).unwrap_or_default();
            format!("{}-{}", j.name, crate::check::config::hex10(&Sha256::digest(text.as_bytes())))
        }
    };
    let job = Job { metadata: meta(p, j, &name), spec: Some(job_spec(j, template)), ..Job::default() };
    let mut o = object(&name, p, &job, prov);
    o.origin = j.span;
    o
}

/// A CronJob: the Job of each run is `jobTemplate`.
fn cron_job(p: &Plan, j: &PlanJob) -> Object {
    let mut prov = BTreeMap::new();
    let template = template(p, j, "/spec/jobTemplate/spec/template", &mut prov);
    let Some(c) = &j.cron else { return job(p, j) };
    let labels = template.metadata.as_ref().and_then(|m| m.labels.clone());
    let spec = CronJobSpec {
        schedule: c.schedule.clone(),
        time_zone: c.time_zone.clone(),
        concurrency_policy: Some(c.concurrency.to_string()),
        suspend: c.suspend,
        successful_jobs_history_limit: c.keep_succeeded.map(|n| super::i32_of(u64::from(n))),
        failed_jobs_history_limit: c.keep_failed.map(|n| super::i32_of(u64::from(n))),
        starting_deadline_seconds: c.starting_deadline.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        job_template: JobTemplateSpec {
            metadata: Some(ObjectMeta { labels, ..ObjectMeta::default() }),
            spec: Some(job_spec(j, template)),
        },
    };
    prov.insert("/spec/schedule".to_string(), j.span);
    let cj = CronJob { metadata: meta(p, j, &j.name), spec: Some(spec), ..CronJob::default() };
    let mut o = object(&j.name, p, &cj, prov);
    o.origin = j.span;
    o
}
