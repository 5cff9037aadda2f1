//! Admission: what the Kubernetes API server, the Argo Rollouts controller
//! and prometheus-operator would reject or silently mis-run, checked on the
//! objects of one environment after patches (a schema says what a field
//! may hold; these rules say how fields must agree).
//!
//! Each rule names the upstream code it mirrors, so a reader can check it:
//!
//! | rule | upstream | code |
//! |---|---|---|
//! | selector matches the pod template's labels; Service, PDB and ServiceMonitor select what they serve | `apps/validation.ValidateDeploymentSpec` ("selector does not match template labels"); svcc's own consistency | SVC0601 |
//! | names, label and annotation syntax | `apimachinery/pkg/api/validation` (`ValidateObjectMeta`, `ValidateLabels`, `ValidateAnnotations`), file names ≤ 255 bytes | SVC0602 |
//! | counts: replicas ≥ 0, HPA 1 ≤ min ≤ max, positive targets, PDB budgets | `apps/validation`, `autoscaling/validation.validateMetricTarget` ("must be positive"), `policy/validation` | SVC0603 |
//! | pod structure: containers, unique names and ports, mounts of declared volumes, env names, probe ports that exist, probe thresholds | `core/validation.ValidatePodSpec`, `validateContainers`, `validateContainerPorts`, `ValidateVolumeMounts`, `validateProbe`; kubelet for named probe ports | SVC0604 |
//! | requests ≤ limits | `core/validation.ValidateResourceRequirements` | SVC0304 (as for the spec's own `resources`) |
//! | no control characters in strings (checked where every string is decoded, `decode::control_character`) | YAML 1.2 printable characters; `kubectl kustomize` refuses DEL | SVC0605 |
//! | Rollout: distinct active/preview and stable/canary Services that exist, analysis templates that exist and get every argument they need, weights 0–100 | Argo Rollouts `pkg/apis/rollouts/validation`, `utils/template.ResolveArgs` | SVC0606 |
//! | AnalysisTemplate: metrics with unique names, one provider each, limits within the count, an interval (Go syntax) when measured more than once; a job metric's Job restarts `Never` or `OnFailure`, with a valid pod | Argo Rollouts `utils/analysis.ValidateMetrics`; `batch/validation.ValidateJob` | SVC0606, SVC0603, SVC0604 |
//! | Service ports: named when several, unique, target ports the pods declare | `core/validation.ValidateService` | SVC0607 |
//! | the HPA scales, and the ServiceMonitor scrapes, what this environment has | `autoscaling` (a missing target never scales), prometheus-operator (an unknown port scrapes nothing) | SVC0608 |
//!
//! A finding whose field a patch wrote is reported at the patch, like a
//! schema violation (`validate.rs`); otherwise at the spec value that set
//! the field, or the service.

mod analysis;
mod metadata;
mod pod;
mod refs;
mod workload;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lower::{Kind, Object};
use crate::source::Span;

/// One rule broken by one object: the pointer of the offending field.
struct Finding {
    code: Code,
    pointer: String,
    message: String,
    help: Option<String>,
}

/// Collects the findings of one object.
struct Sink {
    findings: Vec<Finding>,
}

impl Sink {
    fn push(&mut self, code: Code, pointer: impl Into<String>, message: impl Into<String>) -> &mut Finding {
        self.findings.push(Finding { code, pointer: pointer.into(), message: message.into(), help: None });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }
}

impl Finding {
    fn help(&mut self, help: impl Into<String>) {
        self.help = Some(help.into());
    }
}

impl Object {
    /// Where to report a problem with the value at `pointer`: at the patch
    /// that wrote it, an ancestor or a part of it (`true`), else where the
    /// spec set it (`false`).
    pub(crate) fn locate(&self, pointer: &str) -> (Span, bool) {
        if self.patched_at(pointer) {
            return (self.span_at(pointer), true);
        }
        let below = format!("{pointer}/");
        match self.patched.iter().find(|p| p.starts_with(&below)) {
            Some(p) => (self.span_at(p), true),
            None => (self.span_at(pointer), false),
        }
    }
}

/// Check the objects of one environment, after patches and schema
/// validation, and report every finding.
pub fn admit(objects: &[Object], diags: &mut Diagnostics) {
    for obj in objects {
        let mut sink = Sink { findings: Vec::new() };
        metadata::check(obj, &mut sink);
        match obj.kind {
            Kind::Deployment | Kind::Rollout => workload::check(obj, &mut sink),
            Kind::HorizontalPodAutoscaler => workload::check_hpa(obj, &mut sink),
            Kind::PodDisruptionBudget => workload::check_pdb(obj, &mut sink),
            Kind::Service => refs::check_service_ports(obj, &mut sink),
            Kind::AnalysisTemplate => analysis::check(obj, &mut sink),
            _ => {}
        }
        refs::check(obj, objects, &mut sink);
        report(obj, sink.findings, diags);
    }
}

fn report(obj: &Object, findings: Vec<Finding>, diags: &mut Diagnostics) {
    for f in findings {
        let what = format!("{} `{}`", obj.kind.as_str(), obj.name);
        let at = if f.pointer.is_empty() { "/" } else { &f.pointer };
        let d = match obj.locate(&f.pointer) {
            (span, true) => {
                Diagnostic::error(f.code, format!("this patch makes {what} unacceptable to the cluster: {}", f.message))
                    .at(span, "patched here")
            }
            (span, false) => Diagnostic::error(f.code, format!("{what} would be rejected or misbehave: {}", f.message))
                .at(span, "this value"),
        };
        let help = f.help.map_or(format!("at {at}"), |h| format!("{h} (at {at})"));
        diags.push(d.help(help));
    }
}

/// `value[key]` as a string, when it is one.
fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    get(value, pointer).and_then(Value::as_str)
}

/// Escape a map key for a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The string map at `pointer` (labels, selectors), empty when absent.
fn string_map<'v>(value: &'v Value, pointer: &str) -> Vec<(&'v str, &'v str)> {
    value
        .pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v))).collect())
        .unwrap_or_default()
}

/// Whether every pair of `selector` is in `labels`.
fn selects(selector: &[(&str, &str)], labels: &[(&str, &str)]) -> bool {
    selector.iter().all(|s| labels.contains(s))
}

/// `value.pointer(ptr)` without unescaping each segment when the pointer
/// has no `~` (the rules' pointers, and paths built from plain keys):
/// admission looks up tens of thousands of pointers in a folder build.
fn get<'v>(value: &'v Value, ptr: &str) -> Option<&'v Value> {
    if ptr.contains('~') {
        return value.pointer(ptr);
    }
    ptr.split('/').skip(1).try_fold(value, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}
