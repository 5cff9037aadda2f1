//! `job` and `cron-job`: a Job or CronJob of the service, named
//! `<service>-<NAME>` (a Job that is not a hook with its template's hash
//! after it). Its container is the service's, changed only where it says
//! so: what differs is written in the job's block.

use serde_json::Value;

use super::{CONTAINER, Cx, command, config, duration, env, image, kdl, resources, s};

pub fn map(cx: &mut Cx) {
    let main = cx.at(CONTAINER).cloned().unwrap_or(Value::Null);
    for i in 0..cx.objects.len() {
        let o = &cx.objects[i];
        let (net, np) = network(cx, o);
        let text = match o.kind.as_str() {
            "Job" => job(cx.service, &o.name, &o.value, "/spec", &main, net),
            "CronJob" => cron_job(cx.service, &o.name, &o.value, &main, net),
            _ => continue,
        };
        if let Some(text) = text {
            if let Some(np) = np {
                cx.claim(np, "", "jobs");
            }
            // Keyed by the node's head (`job warm-cache`): one job in every environment.
            let key = text.split(" {").next().unwrap_or(&text).split(" schedule=").next().unwrap_or(&text).to_string();
            cx.node(key, text);
            cx.claim(i, "", "jobs");
        }
    }
}

/// Argo CD's hook phases and delete policies, as `hook` spells them.
const PHASES: &[(&str, &str)] =
    &[("PreSync", "pre-sync"), ("Sync", "sync"), ("PostSync", "post-sync"), ("SyncFail", "sync-fail")];
const DELETES: &[(&str, &str)] = &[
    ("BeforeHookCreation", "before-hook-creation"),
    ("HookSucceeded", "hook-succeeded"),
    ("HookFailed", "hook-failed"),
];

fn spelled(table: &[(&str, &'static str)], v: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == v).map(|(_, w)| *w)
}

/// A job's `network`: its NetworkPolicy's egress beyond the service's
/// (`network { egress … }`), or `network #false` when the service has a
/// policy and the job none; and the index of the job's policy.
fn network(cx: &Cx, o: &super::Object) -> (Option<String>, Option<usize>) {
    let pods = o.value.pointer("/metadata/labels/app.kubernetes.io~1name").and_then(Value::as_str).unwrap_or(&o.name);
    network_of(cx, pods)
}

/// [`network`] of the pods named `pods` (a job's, or a job gate's).
pub(super) fn network_of(cx: &Cx, pods: &str) -> (Option<String>, Option<usize>) {
    let policy = |name: &str| cx.objects.iter().position(|x| x.kind == "NetworkPolicy" && x.name == name);
    let Some(service) = policy(cx.service) else { return (None, None) };
    let Some(own) = policy(pods) else { return (Some("network #false".into()), None) };
    let egress =
        |i: usize| cx.objects[i].value.pointer("/spec/egress").and_then(Value::as_array).cloned().unwrap_or_default();
    let theirs = egress(service);
    let lines: Option<Vec<String>> =
        egress(own).iter().skip(1).filter(|r| !theirs.contains(r)).map(super::network::egress_line).collect();
    match lines {
        Some(l) if l.is_empty() => (None, Some(own)),
        Some(l) => (Some(format!("network {{ {} }}", l.join("; "))), Some(own)),
        None => (None, None),
    }
}

/// `job NAME { … }`; `spec` points at the Job spec (a CronJob's `jobTemplate`).
fn job(service: &str, name: &str, v: &Value, spec: &str, main: &Value, net: Option<String>) -> Option<String> {
    let annotation =
        |k: &str| v.pointer(&format!("/metadata/annotations/argocd.argoproj.io~1{k}")).and_then(Value::as_str);
    let mut body = Vec::new();
    let name = name.strip_prefix(&format!("{service}-"))?;
    let name = match annotation("hook") {
        Some(phase) => {
            let mut line = format!("hook {}", spelled(PHASES, phase)?);
            if let Some(d) = annotation("hook-delete-policy") {
                line.push_str(&format!(" delete={}", s(spelled(DELETES, d)?)));
            }
            if let Some(w) = annotation("sync-wave") {
                line.push_str(&format!(" wave={}", w.parse::<i64>().ok()?));
            }
            body.push(line);
            name
        }
        None => config::unhashed(name).unwrap_or(name),
    };
    body.extend(settings(v, spec, main)?);
    body.extend(net);
    Some(block(&format!("job {}", kdl::name(name)), &body))
}

fn cron_job(service: &str, name: &str, v: &Value, main: &Value, net: Option<String>) -> Option<String> {
    let name = name.strip_prefix(&format!("{service}-"))?;
    let mut head = format!("cron-job {} schedule={}", kdl::name(name), s(v.pointer("/spec/schedule")?.as_str()?));
    if let Some(tz) = v.pointer("/spec/timeZone").and_then(Value::as_str) {
        head.push_str(&format!(" time-zone={}", s(tz)));
    }
    let mut body = Vec::new();
    match v.pointer("/spec/concurrencyPolicy").and_then(Value::as_str) {
        Some("Allow") => body.push("concurrency allow".to_string()),
        Some("Replace") => body.push("concurrency replace".to_string()),
        _ => {}
    }
    let keep = |f: &str| v.pointer(&format!("/spec/{f}")).and_then(Value::as_u64);
    if let (Some(ok), Some(failed)) = (keep("successfulJobsHistoryLimit"), keep("failedJobsHistoryLimit")) {
        body.push(format!("history succeeded={ok} failed={failed}"));
    }
    if v.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        body.push("suspend #true".into());
    }
    if let Some(n) = keep("startingDeadlineSeconds") {
        body.push(format!("starting-deadline {}", s(&duration(n))));
    }
    body.extend(settings(v, "/spec/jobTemplate/spec", main)?);
    body.extend(net);
    Some(block(&head, &body))
}

/// The job's own settings and what its container changes of the service's.
pub(super) fn settings(v: &Value, spec: &str, main: &Value) -> Option<Vec<String>> {
    let at = |f: &str| v.pointer(&format!("{spec}/{f}"));
    let mut out = Vec::new();
    if let Some(n) = at("backoffLimit").and_then(Value::as_u64) {
        out.push(format!("backoff-limit {n}"));
    }
    if let Some(n) = at("activeDeadlineSeconds").and_then(Value::as_u64) {
        out.push(format!("deadline {}", s(&duration(n))));
    }
    if let Some(n) = at("ttlSecondsAfterFinished").and_then(Value::as_u64) {
        out.push(format!("ttl {}", s(&duration(n))));
    }
    if at("template/spec/restartPolicy").and_then(Value::as_str) == Some("OnFailure") {
        out.push("restart on-failure".into());
    }
    let c = at("template/spec/containers/0")?;
    if c.get("image") != main.get("image") || c.get("imagePullPolicy") != main.get("imagePullPolicy") {
        out.push(image::text(c, false)?);
    }
    out.extend(command::texts(c).into_iter().map(|(_, t)| t));
    out.extend(resources::text(c));
    // The job's variables beyond (or other than) the service's.
    let own = |field: &str| -> Value {
        let mine = c.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        let theirs = main.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
        Value::Array(mine.into_iter().filter(|x| !theirs.contains(x)).collect())
    };
    let extra = serde_json::json!({ "env": own("env"), "envFrom": own("envFrom") });
    out.extend(env::env(&extra));
    out.extend(env::env_from(&extra));
    Some(out)
}

pub(super) fn block(head: &str, body: &[String]) -> String {
    if body.is_empty() {
        return head.to_string();
    }
    let body: Vec<String> = body.iter().map(|l| l.replace('\n', "\n    ")).collect();
    format!("{head} {{\n    {}\n}}", body.join("\n    "))
}
