//! Stage 4¾: hardening that a patch cannot undo (`docs/security.md#hardening`).
//!
//! Every pod template svcc emits (the Deployment's or the Rollout's, a
//! Job's, and each job metric's of an AnalysisTemplate: [`templates`]) is
//! checked against one table of rules ([`rules::RULES`]: the Pod Security
//! Standards "baseline" and "restricted", plus svcc's read-only root
//! filesystem and unmounted service account token) twice:
//!
//! 1. **Before the patches**, what the template breaks comes from the spec's
//!    own settings (`security { run-as-non-root #false }`): a warning,
//!    SVC0403, at the setting (provenance of the field).
//! 2. **After the patches**, what the template breaks and did not before
//!    comes from a patch: an error, SVC0405, at the patch value (or the
//!    `remove`) that did it. This covers every container a patch adds, init
//!    containers included, and fields a patch removes.
//!
//! Either is accepted deliberately with `security { allow NAME reason="…" }`
//! (the rule's `allow` name): no diagnostic, and the pod template carries
//! each exception as an annotation, `svcc.dev/allow-NAME: REASON`. An
//! `allow` that no environment needs is SVC0407.

pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lower::{Kind, Object};
use crate::model::{Patch, PatchOp, PatchOpKind, PatchValue};
use crate::patch::segments;
use crate::plan::Plan;
use crate::source::Span;
use rules::{Finding, Setting};

/// The prefix of the pod template annotations that record the accepted
/// exceptions: `svcc.dev/allow-host-network: <reason>`.
pub const EXCEPTION_ANNOTATION: &str = "svcc.dev/allow-";

/// One environment's objects under audit, between lowering and validation.
pub struct Audit {
    /// Per object: what it broke before the patches (`None`: not a workload).
    before: Vec<Option<Vec<Finding>>>,
    /// The `allow` names that accepted a finding.
    used: BTreeSet<&'static str>,
}

impl Audit {
    /// Check the lowered, unpatched objects: report what the spec's own
    /// settings weaken (SVC0403), and remember it.
    pub fn before_patches(objects: &[Object], plan: &Plan, diags: &mut Diagnostics) -> Audit {
        let mut used = BTreeSet::new();
        // One setting can break a rule in several fields (`run-as-non-root`
        // writes the pod's and the container's): one warning per setting.
        let mut warned: BTreeSet<(&'static str, Span)> = BTreeSet::new();
        let before = objects
            .iter()
            .map(|o| {
                let templates = templates(o);
                if templates.is_empty() {
                    return None;
                }
                let found: Vec<Finding> = templates.iter().flat_map(|t| rules::findings(&o.value, t)).collect();
                for f in &found {
                    if plan.security.exceptions.contains_key(f.rule.allow) {
                        used.insert(f.rule.allow);
                    } else if let Some((span, d)) = spec_warning(o, f)
                        && warned.insert((f.rule.allow, span))
                    {
                        diags.push(d);
                    }
                }
                Some(found)
            })
            .collect();
        Audit { before, used }
    }

    /// Check the patched objects: what they break and did not before is
    /// SVC0405 at the patch. Returns the `allow` names this environment needed.
    pub fn after_patches(mut self, objects: &[Object], plan: &Plan, diags: &mut Diagnostics) -> BTreeSet<&'static str> {
        for (o, before) in objects.iter().zip(&self.before) {
            let Some(before) = before else { continue };
            let ops: Vec<&PatchOp> = plan.patches.iter().filter(|p| targets(p, o)).flat_map(|p| &p.ops).collect();
            // Patches elsewhere in the object leave the pods as they were.
            let touched = |t: &String| o.patched.iter().any(|p| p.starts_with(t.as_str()) || t.starts_with(p.as_str()));
            let templates: Vec<String> = templates(o).into_iter().filter(touched).collect();
            if ops.is_empty() || templates.is_empty() {
                continue;
            }
            for f in templates.iter().flat_map(|t| rules::findings(&o.value, t)) {
                if before.iter().any(|b| b.same(&f)) {
                    continue;
                }
                if plan.security.exceptions.contains_key(f.rule.allow) {
                    self.used.insert(f.rule.allow);
                    continue;
                }
                diags.push(patch_error(o, &f, &ops));
            }
        }
        self.used
    }
}

/// The JSON pointers of an object's pod templates: its kind's, and the
/// Job template of each job metric of an AnalysisTemplate (Argo Rollouts
/// runs a pod of it at each measurement).
pub fn templates(o: &Object) -> Vec<String> {
    let mut out: Vec<String> = o.kind.pod_template().map(str::to_string).into_iter().collect();
    if o.kind == Kind::AnalysisTemplate {
        let metrics = o.value.pointer("/spec/metrics").and_then(serde_json::Value::as_array);
        for (i, m) in metrics.into_iter().flatten().enumerate() {
            if m.pointer("/provider/job").is_some() {
                out.push(format!("/spec/metrics/{i}/provider/job/spec/template"));
            }
        }
    }
    out
}

fn targets(p: &Patch, o: &Object) -> bool {
    p.kind.value == o.kind.as_str() && p.name.as_ref().is_none_or(|n| n.value == o.name)
}

/// `securityContext.capabilities.add` for a pointer below a container or the pod.
fn field_of(pointer: &str) -> String {
    let segs = segments(pointer);
    // Below the pod template's `spec` (or `metadata`): `/spec/template/spec`,
    // a CronJob's or a job metric's deeper one, and below the container
    // when there is one.
    let start = segs.iter().position(|s| s == "template").map_or(segs.len(), |i| i + 2);
    let rest = match segs.get(start..) {
        Some([list, i, rest @ ..])
            if ["containers", "initContainers", "ephemeralContainers"].contains(&list.as_str())
                && i.parse::<usize>().is_ok() =>
        {
            rest
        }
        Some(rest) => rest,
        None => &[],
    };
    let mut out = String::new();
    for s in rest {
        if s.parse::<usize>().is_ok() {
            out.push_str(&format!("[{s}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(s);
        }
    }
    out
}

/// "in container `x` of Deployment `api`" or "in Deployment `api`".
fn place(o: &Object, f: &Finding) -> String {
    match &f.container {
        Some(c) => format!("container `{c}` of {} `{}`", o.kind.as_str(), o.name),
        None => format!("{} `{}`", o.kind.as_str(), o.name),
    }
}

fn against(f: &Finding) -> String {
    format!("against {} ({})", f.rule.level.describe(), f.rule.control)
}

/// The field's value as KDL (`#false`, `"Unconfined"`, `0`).
fn as_kdl(shown: &str) -> String {
    match shown {
        "true" | "false" | "null" => format!("#{shown}"),
        s => s.to_string(),
    }
}

fn allow_help(f: &Finding) -> String {
    format!(
        "if the workload needs it, record why in the spec: `security {{ allow {} reason=\"…\" }}` (docs/security.md#{})",
        f.rule.allow, f.rule.anchor
    )
}

/// SVC0403 for a weakening the spec's own settings produce, at the setting.
fn spec_warning(o: &Object, f: &Finding) -> Option<(Span, Diagnostic)> {
    let what = match f.rule.setting {
        // A documented setting that is not a weakening there
        // (`service-account automount-token=#true`).
        Setting::Other(_) => return None,
        Setting::Security(child) => format!("`{child} {}`", as_kdl(&f.shown)),
        Setting::None => format!("`{}: {}` in {}", field_of(&f.pointer), f.shown, place(o, f)),
    };
    let span = nearest_span(o, &f.pointer);
    let mut d = Diagnostic::warning(
        Code::WeakenedSecurity,
        format!("{what} weakens the default security context, {}", against(f)),
    )
    .at(span, "overrides a hardened default")
    .help(format!("keep the default unless the image truly needs it; {}", allow_help(f)));
    if f.rule.allow == "run-as-root" {
        d = d.note(
            "the containers may then run as root: a process that breaks out of its container is root on the node; prefer an image with a numeric non-root `USER` and `run-as-user \"image\"`",
        );
    }
    Some((span, d))
}

/// The spec span of the value at `pointer`: its nearest recorded ancestor.
fn nearest_span(o: &Object, pointer: &str) -> Span {
    let mut p = pointer;
    loop {
        if let Some(origin) = o.provenance.get(p) {
            return origin.span().unwrap_or(o.origin);
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return o.origin,
        }
    }
}

/// SVC0405 for a weakening a patch introduced, at the patch that did it.
fn patch_error(o: &Object, f: &Finding, ops: &[&PatchOp]) -> Diagnostic {
    let field = field_of(&f.pointer);
    let (span, label) = culprit(f, ops);
    let message = if f.shown == "unset" {
        format!("a patch leaves {} without `{field}: {}`, {}", place(o, f), f.rule.bad.wanted(), against(f))
    } else {
        format!("a patch sets `{field}: {}` in {}, {}", f.shown, place(o, f), against(f))
    };
    let help = match f.rule.setting {
        Setting::Other(instead) => format!("use the setting svcc has for this instead of a patch: `{instead}`"),
        Setting::Security(child) if f.shown != "unset" => format!(
            "hardening is not undone by a patch: {}; for svcc's own container, `security {{ {child} … }}` is the setting",
            allow_help(f)
        ),
        Setting::Security(_) => format!("hardening is not undone by a patch: {}", allow_help(f)),
        Setting::None => format!("hardening is not undone by a patch: {}", allow_help(f)),
    };
    Diagnostic::error(Code::PatchWeakensSecurity, message)
        .at(span, label)
        .help(help)
        .note("patches are an escape hatch for fields svcc does not model, not a way around the hardened defaults")
}

/// The patch operation behind a finding, and the span closest to the
/// field: of the operations whose pointer is the field's, one of its
/// ancestors or one of its descendants (a `-` matches any index), the one
/// that reaches deepest towards the field (through its value), the last
/// one on a tie.
fn culprit(f: &Finding, ops: &[&PatchOp]) -> (Span, String) {
    let want = segments(&f.pointer);
    let mut best: Option<(usize, Span, &PatchOp)> = None;
    for op in ops {
        let have = segments(&op.pointer.value);
        if !have.iter().zip(&want).all(|(h, w)| h == w || (h == "-" && w.parse::<usize>().is_ok())) {
            continue;
        }
        let (depth, span) = match &op.value {
            Some(v) if have.len() < want.len() => inner(v, &want[have.len()..], have.len()),
            Some(v) => (want.len(), v.span()),
            None => (have.len().min(want.len()), op.pointer.span),
        };
        if best.is_none_or(|(d, _, _)| depth >= d) {
            best = Some((depth, span, op));
        }
    }
    match best {
        Some((_, span, op)) if op.op == PatchOpKind::Remove => (span, "removes a hardened field".to_string()),
        Some((_, span, _)) if f.shown == "unset" => (span, "leaves it unset".to_string()),
        Some((_, span, _)) => (span, format!("sets `{}`", f.shown)),
        // Unreachable: a patch changed the object, so it has operations.
        None => (ops.last().map_or(Span::default(), |o| o.node), "patched here".to_string()),
    }
}

/// How deep `v` (at depth `depth`) goes along `path`, and the span there.
fn inner(v: &PatchValue, path: &[String], depth: usize) -> (usize, Span) {
    let Some((first, rest)) = path.split_first() else { return (depth, v.span()) };
    let child = match v {
        PatchValue::Object(_, entries) => entries.iter().find(|(k, _)| k.value == *first).map(|(_, c)| c),
        PatchValue::Array(_, items) => first.parse::<usize>().ok().and_then(|i| items.get(i)),
        PatchValue::Scalar(_) => None,
    };
    match child {
        Some(c) => inner(c, rest, depth + 1),
        None => (depth, v.span()),
    }
}

/// The `allow`s of every environment built, and whether any needed them.
#[derive(Default)]
pub struct Exceptions {
    /// By the span of the `allow` name: its name, and whether it was needed.
    declared: BTreeMap<Span, (String, bool)>,
}

impl Exceptions {
    pub fn record(&mut self, plan: &Plan, used: &BTreeSet<&'static str>) {
        for (name, (_, span)) in &plan.security.exceptions {
            let e = self.declared.entry(*span).or_insert_with(|| (name.clone(), false));
            e.1 |= used.contains(name.as_str());
        }
    }

    /// SVC0407 for every `allow` no environment needed. Only meaningful
    /// when every environment was built.
    pub fn report_unused(self, diags: &mut Diagnostics) {
        for (span, (name, used)) in self.declared {
            if !used {
                diags.push(
                    Diagnostic::warning(Code::UnusedException, format!("nothing needs `allow {name}`"))
                        .at(span, "no environment weakens this")
                        .help("remove the exception: a stale one would let a later change weaken the pod unnoticed"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Input, Options, compile};

    const SPEC: &str = r#"service exporter {
    image "ghcr.io/acme/exporter" tag="1.0.0"
    port metrics 9100
    probes { readiness "/" }
    security { allow host-network reason="reads the node's interfaces" }
    patch Deployment { set "/spec/template/spec/hostNetwork" #true }
    environment staging
    environment production {
        security { allow host-pid reason="reads every process" }
        patch Deployment { set "/spec/template/spec/hostPID" #true }
    }
}
"#;

    fn build(text: &str, envs: &[&str]) -> crate::Compiled {
        let input = Input { name: "spec.kdl".into(), bytes: text.as_bytes().to_vec() };
        compile(&input, &Options { environments: envs.iter().map(|e| e.to_string()).collect(), ..Options::default() })
    }

    fn deployment(c: &crate::Compiled, env: &str) -> String {
        let path = format!("exporter/{env}/deployment-exporter.yaml");
        c.artifacts.iter().find(|a| a.path == path).map(|a| a.contents.clone()).unwrap_or_default()
    }

    #[test]
    fn allowed_weakenings_build_clean_and_are_recorded_on_the_pod() {
        let c = build(SPEC, &[]);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
        let staging = deployment(&c, "staging");
        assert!(staging.contains("svcc.dev/allow-host-network: reads the node's interfaces"), "{staging}");
        assert!(!staging.contains("svcc.dev/allow-host-pid"), "{staging}");
        let production = deployment(&c, "production");
        assert!(production.contains("svcc.dev/allow-host-pid: reads every process"), "{production}");
        assert!(production.contains("hostPID: true") && production.contains("hostNetwork: true"));
    }

    #[test]
    fn an_exception_one_environment_needs_is_used_and_partial_builds_do_not_judge() {
        // host-pid is needed in production only: no SVC0407 for it.
        let spec = SPEC.replace(r#"patch Deployment { set "/spec/template/spec/hostNetwork" #true }"#, "");
        let c = build(&spec, &[]);
        let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["SVC0407"], "{:?}", c.diagnostics);
        assert!(c.diagnostics[0].message.contains("`allow host-network`"));
        // A build of one environment cannot tell.
        assert!(build(&spec, &["staging"]).diagnostics.is_empty());
    }

    #[test]
    fn without_the_exception_the_patch_is_refused_in_the_environment_that_lacks_it() {
        let spec = SPEC.replace(r#"security { allow host-pid reason="reads every process" }"#, "");
        let c = build(&spec, &[]);
        let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["SVC0405"], "{:?}", c.diagnostics);
        assert!(c.diagnostics[0].message.contains("`hostPID: true`"), "{}", c.diagnostics[0].message);
        assert!(c.artifacts.is_empty());
    }
}
