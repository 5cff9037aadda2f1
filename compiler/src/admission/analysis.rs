//! AnalysisTemplates: what the Argo Rollouts controller refuses in a
//! template's metrics (`utils/analysis.ValidateMetrics`, which fails every
//! AnalysisRun of the template), and a job metric's Job as the API server
//! would refuse it when the controller creates it at a measurement
//! (`batch/validation.ValidateJob`, the pod by [`pod::check`]).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Sink, pod};
use crate::diagnostic::Code;
use crate::lower::Object;

pub(super) fn check(obj: &Object, sink: &mut Sink) {
    let v = &obj.value;
    let metrics = super::get(v, "/spec/metrics").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if metrics.is_empty() {
        sink.push(Code::RolloutStructure, "/spec/metrics", "it has no metric: Argo Rollouts refuses to run it");
    }
    let mut names = BTreeSet::new();
    for (i, m) in metrics.iter().enumerate() {
        let at = format!("/spec/metrics/{i}");
        let name = m.get("name").and_then(Value::as_str).unwrap_or("");
        if !names.insert(name) {
            sink.push(Code::RolloutStructure, format!("{at}/name"), format!("two metrics are named `{name}`"));
        }
        counts(m, &at, sink);
        providers(m, &at, sink);
    }
}

/// An int-or-string field as a number, when it is one (a string may be an
/// argument placeholder, resolved at run time).
fn int(m: &Value, field: &str) -> Option<i64> {
    match m.get(field)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `ValidateMetric`: limits within the count, not negative; an interval
/// (Go duration syntax) when the metric measures more than once.
fn counts(m: &Value, at: &str, sink: &mut Sink) {
    let count = int(m, "count").unwrap_or(0);
    for field in ["failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"] {
        let Some(n) = int(m, field) else { continue };
        if n < 0 {
            sink.push(Code::InvalidCount, format!("{at}/{field}"), format!("`{field}` is {n}, below 0"));
        } else if count > 0 && n > count && field != "consecutiveErrorLimit" {
            sink.push(
                Code::InvalidCount,
                format!("{at}/{field}"),
                format!("`{field}` ({n}) is above `count` ({count}): Argo Rollouts refuses the metric"),
            );
        }
    }
    match m.get("interval").and_then(Value::as_str) {
        None if count > 1 => {
            sink.push(
                Code::RolloutStructure,
                format!("{at}/interval"),
                format!("it measures {count} times without an `interval`: Argo Rollouts refuses the metric"),
            );
        }
        Some(i) if !go_duration(i) => {
            sink.push(
                Code::RolloutStructure,
                format!("{at}/interval"),
                format!("the interval `{}` is not a duration Argo Rollouts reads", i.escape_debug()),
            )
            .help("write a number with its unit: `30s`, `1m`, `1m30s`");
        }
        _ => {}
    }
}

/// Exactly one provider; a Job the API server accepts.
fn providers(m: &Value, at: &str, sink: &mut Sink) {
    let given: Vec<&String> =
        m.get("provider").and_then(Value::as_object).map(|p| p.keys().collect()).unwrap_or_default();
    if given.len() != 1 {
        let which = if given.is_empty() { "no provider".to_string() } else { format!("{} providers", given.len()) };
        sink.push(
            Code::RolloutStructure,
            format!("{at}/provider"),
            format!("the metric has {which}: Argo Rollouts needs exactly one"),
        );
    }
    if m.pointer("/provider/job").is_some() {
        job(m, &format!("{at}/provider/job/spec"), sink);
    }
}

/// `ValidateJob`: a pod that restarts `Never` or `OnFailure`, counts not
/// negative, a positive deadline; the pod itself as any pod.
fn job(m: &Value, at: &str, sink: &mut Sink) {
    let spec = m.pointer("/provider/job/spec").unwrap_or(&Value::Null);
    let restart = spec.pointer("/template/spec/restartPolicy").and_then(Value::as_str);
    if !matches!(restart, Some("Never" | "OnFailure")) {
        sink.push(
            Code::PodStructure,
            format!("{at}/template/spec/restartPolicy"),
            format!(
                "a Job's pod must restart `Never` or `OnFailure`, not {}",
                restart.map_or("by default (`Always`)".to_string(), |r| format!("`{r}`"))
            ),
        );
    }
    for (field, min) in [("backoffLimit", 0), ("activeDeadlineSeconds", 1), ("ttlSecondsAfterFinished", 0)] {
        if let Some(n) = spec.get(field).and_then(Value::as_i64)
            && n < min
        {
            sink.push(Code::InvalidCount, format!("{at}/{field}"), format!("`{field}` is {n}, below {min}"));
        }
    }
    // `pod::check` reads the pod spec at a pointer into the metric's object.
    let mut scoped = Sink { findings: Vec::new() };
    pod::check(spec, "/template/spec", &mut scoped);
    for f in scoped.findings {
        let pointer = format!("{at}{}", f.pointer);
        let found = sink.push(f.code, pointer, f.message);
        if let Some(h) = f.help {
            found.help(h);
        }
    }
}

/// Go's `time.ParseDuration`, which Argo Rollouts reads intervals with: an
/// optional sign, then numbers (with an optional fraction) each followed by
/// a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone needs none.
fn go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].iter().find(|u| rest.starts_with(**u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn go_durations() {
        for ok in ["0", "10s", "1m30s", "1.5h", "300ms", "2h45m", "-1s", "1µs"] {
            assert!(go_duration(ok), "{ok}");
        }
        for bad in ["", "10", "s", "1x", "1m 30s", "1..5s", ".s", "+"] {
            assert!(!go_duration(bad), "{bad}");
        }
    }
}
