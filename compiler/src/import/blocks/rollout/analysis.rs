//! A gate block (`pre-promotion { … }`, a canary `analysis { … }`) read
//! back from the AnalysisTemplate the Rollout names: svcc's own gates
//! (`success-rate`, `latency-pNN`), Prometheus `query` gates and Job
//! gates (`job NAME { … }`), with the block's `arg`s and its `template=`.
//! A metric that is none of these (a web provider) leaves a success-rate
//! gate that a patch gives the input's metrics.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::{CONTAINER, Cx, jobs, kdl, resources, s};

/// The guard svcc puts before every condition.
const GUARD: &str = "len(result) > 0 && !isNaN(result[0]) && ";
const SCALAR_GUARD: &str = "!isNaN(result) && ";

/// What reading a template decided beyond its lines, kept until the whole
/// template reads back: fields svcc writes another way on purpose (object,
/// pointer, reason), and the objects its gates carry (a job gate's
/// NetworkPolicy).
#[derive(Default)]
struct Read {
    lines: Vec<String>,
    designed: Vec<(usize, String, String)>,
    carried: Vec<usize>,
}

/// `[template="NAME"] { arg …; gate; gate }` for the analysis reference
/// `a` at the pointer `at` of the Rollout (`templates: [{templateName}]`,
/// or the deprecated `templateName`), whose AnalysisTemplate svcc names
/// `default` unless told (`background`: the canary's background analysis,
/// the one that may measure until the update ends); `None` when no gate
/// reads it back and no `metrics` lets a placeholder gate stand in (gates
/// need it: SVC0313).
pub fn gates(cx: &mut Cx, a: &Value, at: &str, (default, background): (&str, bool)) -> Option<String> {
    let (names, deprecated): (Vec<&str>, bool) = match a.get("templates").and_then(Value::as_array) {
        Some(ts) => (ts.iter().filter_map(|t| t.get("templateName").and_then(Value::as_str)).collect(), false),
        None => (a.get("templateName").and_then(Value::as_str).into_iter().collect(), true),
    };
    let (mut lines, declared) = args(a);
    let mut read_any = false;
    for n in &names {
        let Some(t) = cx.objects.iter().position(|o| o.kind == "AnalysisTemplate" && o.name == *n) else { continue };
        let metrics = cx.objects[t].value.pointer("/spec/metrics").and_then(Value::as_array);
        let mut read = Read::default();
        let all = metrics.is_some_and(|ms| {
            ms.iter().enumerate().all(|(i, m)| gate(cx, (t, i), m, (&declared, background), &mut read))
        });
        if all && !read.lines.is_empty() {
            read_any = true;
            lines.append(&mut read.lines);
            cx.designed.append(&mut read.designed);
            cx.claim(t, "", "rollout");
            for o in read.carried {
                cx.claim(o, "", "rollout");
            }
        }
    }
    if !read_any {
        cx.first("ServiceMonitor")?;
        lines.push("success-rate".into());
    }
    if deprecated && read_any {
        let current = "svcc writes the current form, `templates: [{templateName}]`, naming the same AnalysisTemplate";
        cx.designed(
            0,
            format!("{at}/templateName"),
            format!("`templateName` directly under the analysis is the deprecated single-template form, not in the Rollout CRD: {current}"),
        );
        if a.get("name").is_some() {
            cx.designed(
                0,
                format!("{at}/name"),
                format!("`name` is not in the Rollout CRD (the API server drops it), a field of the deprecated single-template form: {current}"),
            );
        }
    }
    let named = match names.as_slice() {
        [one] if read_any && *one != default => format!("template={} ", s(one)),
        _ => String::new(),
    };
    if lines.iter().any(|l| l.contains('\n')) {
        let body: Vec<String> = lines.iter().map(|l| format!("    {}", l.replace('\n', "\n    "))).collect();
        return Some(format!("{named}{{\n{}\n}}", body.join("\n")));
    }
    Some(format!("{named}{{ {} }}", lines.join("; ")))
}

/// The block's `arg` lines from the reference's `args`, and the names
/// they declare. svcc's own `namespace` argument (the Rollout's
/// namespace) goes unsaid: svcc passes it when the queries read it. An
/// argument no `arg` can say (from a Secret) is left to a patch.
fn args(a: &Value) -> (Vec<String>, BTreeSet<String>) {
    let mut lines = Vec::new();
    let mut names = BTreeSet::new();
    for x in a.get("args").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = x.get("name").and_then(Value::as_str) else { continue };
        let from = |p: &str| x.pointer(p).and_then(Value::as_str);
        let source = if let Some(v) = from("/value") {
            format!("value={}", s(v))
        } else if let Some(h) = from("/valueFrom/podTemplateHashValue") {
            match h {
                "Latest" => "pod-template-hash=\"latest\"".to_string(),
                "Stable" => "pod-template-hash=\"stable\"".to_string(),
                _ => continue,
            }
        } else if let Some(f) = from("/valueFrom/fieldRef/fieldPath") {
            if name == crate::check::rollout::NAMESPACE_ARG {
                names.insert(name.to_string());
                continue;
            }
            format!("field={}", s(f))
        } else {
            continue;
        };
        names.insert(name.to_string());
        lines.push(format!("arg {} {source}", kdl::name(name)));
    }
    (lines, names)
}

/// Read one metric (index `i` of the template `t`) into `read`: `false`
/// when it is no gate svcc can say. `sets`: the arguments the block
/// declares, and whether it is the canary's background analysis.
fn gate(cx: &Cx, (t, i): (usize, usize), m: &Value, sets: (&BTreeSet<String>, bool), read: &mut Read) -> bool {
    let line =
        if m.pointer("/provider/job").is_some() { job_gate(cx, (t, i), m, sets, read) } else { query_gate(m, sets.1) };
    line.map(|l| read.lines.push(l)).is_some()
}

/// One Prometheus metric as a gate, or `None`.
fn query_gate(m: &Value, background: bool) -> Option<String> {
    let name = m.get("name")?.as_str()?;
    let query = m.pointer("/provider/prometheus/query")?.as_str()?;
    if m.as_object()?.keys().any(|k| {
        !matches!(
            k.as_str(),
            "name"
                | "interval"
                | "count"
                | "successCondition"
                | "failureCondition"
                | "failureLimit"
                | "inconclusiveLimit"
                | "provider"
        )
    }) {
        return None;
    }
    let success = m.get("successCondition").and_then(Value::as_str);
    let failure = m.get("failureCondition").and_then(Value::as_str);
    let mut line = if name == "success-rate" {
        format!("success-rate at-least={}", success?.strip_prefix(GUARD)?.strip_prefix("result[0] >= ")?)
    } else if let Some(q) = name.strip_prefix("latency-p") {
        let quantile = query.strip_prefix("histogram_quantile(")?.split(',').next()?;
        q.parse::<u32>().ok()?;
        let most: f64 = success?.strip_prefix(GUARD)?.strip_prefix("result[0] <= ")?.parse().ok()?;
        format!("latency quantile={quantile} at-most={}", s(&duration(most)))
    } else {
        custom(name, query, success, failure)?
    };
    // svcc's defaults (interval 1m, count 5, failure limit 1, inconclusive limit 2) go unsaid.
    if let Some(i) = m.get("interval").and_then(Value::as_str).filter(|i| *i != "1m") {
        line.push_str(&format!(" interval={}", s(i)));
    }
    line.push_str(&count(m, 5, background)?.0);
    for (field, prop, default) in [("failureLimit", "failure-limit", 1), ("inconclusiveLimit", "inconclusive-limit", 2)]
    {
        if let Some(n) = m.get(field).and_then(Value::as_u64).filter(|n| *n != default) {
            line.push_str(&format!(" {prop}={n}"));
        }
    }
    Some(line)
}

/// A Job metric as `job NAME … { … }`: its measurement settings (svcc's
/// defaults unsaid: interval 1m, count 1, failure limit 0, inconclusive
/// limit 2 at most the count) and the job's settings and container as a
/// `job` of the service says them (`jobs::settings`), with its
/// container's name and its pods' NetworkPolicy. `None` when the Job
/// reads a `{{…}}` the block's arguments do not fill (svcc would refuse
/// the gate, SVC0266) or its provider is more than the Job.
fn job_gate(
    cx: &Cx,
    (t, i): (usize, usize),
    m: &Value,
    (declared, background): (&BTreeSet<String>, bool),
    read: &mut Read,
) -> Option<String> {
    let name = m.get("name")?.as_str()?;
    let job = m.pointer("/provider/job")?;
    if m.get("provider")?.as_object()?.len() != 1 || !filled(&job.to_string(), declared) {
        return None;
    }
    let at = |f: &str| format!("/spec/metrics/{i}/{f}");
    let mut head = format!("job {}", kdl::name(name));
    match m.get("interval") {
        Some(Value::String(v)) if v != "1m" => head.push_str(&format!(" interval={}", s(v))),
        // Bare seconds: the CRD's `interval` is a string, so this is the
        // input's error; svcc writes the duration it means.
        Some(Value::Number(n)) => {
            let secs = n.as_u64().filter(|n| *n > 0)?;
            head.push_str(&format!(" interval={}", s(&format!("{secs}s"))));
            read.designed.push((t, at("interval"), format!(
                "`interval` is a duration string in the AnalysisTemplate CRD, and the API server refuses the number {n}: svcc writes `{secs}s`"
            )));
        }
        _ => {}
    }
    let (said, count) = count(m, 1, background)?;
    head.push_str(&said);
    let defaults = [0, count.unwrap_or(2).min(2)];
    for ((field, former, prop), default) in [
        ("failureLimit", "maxFailures", "failure-limit"),
        ("inconclusiveLimit", "maxInconclusive", "inconclusive-limit"),
    ]
    .into_iter()
    .zip(defaults)
    {
        let n = match (m.get(field), m.get(former).and_then(Value::as_u64)) {
            (Some(v), _) => v.as_u64(),
            // A former name, which the current CRD has not: svcc writes
            // the current one.
            (None, Some(n)) => {
                read.designed.push((t, at(former), format!(
                    "`{former}` is the former name of `{field}`, not in the AnalysisTemplate CRD (the API server drops it): svcc writes `{field}: {n}`"
                )));
                Some(n)
            }
            (None, None) => None,
        };
        if let Some(n) = n.filter(|n| *n != default) {
            head.push_str(&format!(" {prop}={n}"));
        }
    }
    let main = cx.at(CONTAINER).cloned().unwrap_or(Value::Null);
    let container = job.pointer("/spec/template/spec/containers/0");
    // The service's resources, and a gate's defaults (no retry, a
    // deadline of 5m), go unsaid; a job gate has no `ttl` (Argo Rollouts
    // deletes its Jobs): a patch says it.
    let inherited = container
        .and_then(resources::text)
        .filter(|_| container.and_then(|c| c.get("resources")) == main.get("resources"));
    let deadline = format!("deadline {}", s(&super::super::duration(crate::check::jobs::ANALYSIS_DEADLINE)));
    let unsaid = |l: &String| {
        l.starts_with("ttl ") || *l == "backoff-limit 0" || *l == deadline || Some(l) == inherited.as_ref()
    };
    let mut body: Vec<String> =
        jobs::settings(m, "/provider/job/spec", &main)?.into_iter().filter(|l| !unsaid(l)).collect();
    let container = container.and_then(|c| c.get("name")).and_then(Value::as_str);
    if let Some(c) = container.filter(|c| *c != name) {
        body.insert(0, format!("container-name {}", s(c)));
    }
    let own = format!("{}-{name}", cx.service);
    let pods = job.pointer("/metadata/labels/app.kubernetes.io~1name").and_then(Value::as_str).unwrap_or(&own);
    let (net, policy) = jobs::network_of(cx, pods);
    body.extend(net);
    read.carried.extend(policy);
    Some(jobs::block(&head, &body))
}

/// A gate's ` count=N` (nothing when it is `default`) and its count. A
/// metric without a count measures until the update ends when it has an
/// interval, which only the canary's background analysis can say
/// (`count="whole-update"`; SVC0392 elsewhere), and once without one (as
/// Argo Rollouts runs it); `None` when svcc cannot say it.
fn count(m: &Value, default: u64, background: bool) -> Option<(String, Option<u64>)> {
    let n = match m.get("count") {
        None if m.get("interval").is_some() => {
            return background.then(|| (" count=\"whole-update\"".to_string(), None));
        }
        None => 1,
        Some(v) => v.as_u64()?,
    };
    Some((if n == default { String::new() } else { format!(" count={n}") }, Some(n)))
}

/// Every `{{…}}` of `text` is an argument the block declares
/// (`{{args.NAME}}`), as svcc asks of a job gate (SVC0266), read as its
/// check reads them.
fn filled(text: &str, declared: &BTreeSet<String>) -> bool {
    crate::check::rollout::tags(text)
        .all(|t| t.is_some_and(|t| t.trim().strip_prefix("args.").is_some_and(|n| declared.contains(n))))
}

/// `query NAME expr=… success=… failure=…`, the guard taken off.
fn custom(name: &str, query: &str, success: Option<&str>, failure: Option<&str>) -> Option<String> {
    let bare = |c: &str| c.strip_prefix(GUARD).or_else(|| c.strip_prefix(SCALAR_GUARD)).map(str::to_string);
    let (ok, bad) = (success.map(bare), failure.map(bare));
    let (ok, bad) = (ok.flatten(), bad.flatten());
    let negated = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => *b == format!("!({a})"),
        _ => false,
    };
    let mut line = format!("query {} expr={}", s(name), s(&selector(query)));
    if negated(&ok, &bad) {
        line.push_str(&format!(" success={}", s(ok.as_deref()?)));
    } else if negated(&bad, &ok) {
        line.push_str(&format!(" failure={}", s(bad.as_deref()?)));
    } else {
        for (prop, c) in [("success", &ok), ("failure", &bad)] {
            if let Some(c) = c {
                line.push_str(&format!(" {prop}={}", s(c)));
            }
        }
    }
    Some(line)
}

/// `job="…",namespace="…"` (the scrape selector svcc expands) back to `${selector}`.
fn selector(query: &str) -> String {
    let Some(start) = query.find("job=\"") else { return query.to_string() };
    let rest = &query[start..];
    let Some(ns) = rest.find("\",namespace=\"") else { return query.to_string() };
    let after = &rest[ns + 13..];
    let Some(end) = after.find('"') else { return query.to_string() };
    let len = ns + 13 + end + 1;
    if rest[5..ns].contains(['"', ',', '}']) {
        return query.to_string();
    }
    format!("{}${{selector}}{}", &query[..start], &query[start + len..])
}

/// Seconds as a duration: whole seconds, else milliseconds.
fn duration(secs: f64) -> String {
    if secs.fract() == 0.0 { format!("{secs:.0}s") } else { format!("{:.0}ms", secs * 1000.0) }
}
