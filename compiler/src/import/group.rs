//! Grouping objects by workload: each Deployment or Rollout with the
//! Services that select its pods, its ServiceAccount, HPA, disruption
//! budget, ServiceMonitor, PrometheusRule and AnalysisTemplates.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Object;
use super::ledger::{Fate, Ledger, ObjectReport};
use crate::diagnostic::{Code, Diagnostic};

/// The workload kinds: each becomes one service.
pub const WORKLOADS: &[&str] = &["Deployment", "Rollout"];
/// The other kinds svcc generates for a service.
pub const MEMBERS: &[&str] = &[
    "Service",
    "ServiceAccount",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ServiceMonitor",
    "PrometheusRule",
    "AnalysisTemplate",
    "NetworkPolicy",
    "HTTPRoute",
    "GRPCRoute",
    "Ingress",
    "Certificate",
    "ScaledObject",
    "Job",
    "CronJob",
    "ConfigMap",
    "ExternalSecret",
];

/// One workload: per environment, its objects (the workload first).
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    pub environments: Vec<(String, Vec<Object>)>,
}

#[derive(Debug, Default)]
pub struct Grouped {
    pub workloads: Vec<Workload>,
    /// Objects that are in no spec, accounted for as not carried over.
    pub leftovers: Vec<ObjectReport>,
}

/// Where a document starts: diagnostics point there, not at all of it.
fn head(s: crate::source::Span) -> crate::source::Span {
    crate::source::Span::in_file(s.file, s.start as usize, s.start as usize)
}

/// A workload and the objects that joined it.
type Member = (Object, Vec<Object>);

/// The map at a pointer, borrowed.
fn labels<'a>(v: &'a Value, p: &str) -> Option<&'a Map<String, Value>> {
    super::diff::get(v, p).and_then(Value::as_object)
}

fn subset(sel: Option<&Map<String, Value>>, of: Option<&Map<String, Value>>) -> bool {
    sel.is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| of.and_then(|of| of.get(k)) == Some(v)))
}

/// `name` is `workload` or starts with `workload-`.
fn named_like(name: &str, workload: &str) -> bool {
    name.strip_prefix(workload).is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The service name a workload goes by: its `app.kubernetes.io/name`
/// label (svcc's output, most charts), else its own name.
fn alias(w: &Object) -> Option<&str> {
    super::diff::get(&w.value, "/metadata/labels/app.kubernetes.io~1name").and_then(Value::as_str)
}

/// Whether `o` belongs to the workload `w` (both in one environment).
fn belongs(o: &Object, w: &Object, services: &[&Object]) -> bool {
    let pods = labels(&w.value, "/spec/template/metadata/labels");
    let s = |p: &str| super::diff::get(&o.value, p).and_then(Value::as_str);
    let named = |n: &str| named_like(&o.name, n);
    match o.kind.as_str() {
        // The service's (selecting its pods), or a job's (named like it).
        "NetworkPolicy" => {
            subset(labels(&o.value, "/spec/podSelector/matchLabels"), pods)
                || named(&w.name)
                || alias(w).is_some_and(named)
        }
        "ScaledObject" => s("/spec/scaleTargetRef/name") == Some(&w.name),
        // Referenced by the pods (or named like the service: a job's).
        "ConfigMap" => refers(&w.value, &["configMap", "configMapRef", "configMapKeyRef"], &o.name),
        "ExternalSecret" => {
            let target = s("/spec/target/name").unwrap_or(&o.name);
            refers(&w.value, &["secret", "secretRef", "secretKeyRef"], target)
        }
        "Service" => subset(labels(&o.value, "/spec/selector"), pods),
        "PodDisruptionBudget" => subset(labels(&o.value, "/spec/selector/matchLabels"), pods),
        "HorizontalPodAutoscaler" => s("/spec/scaleTargetRef/name") == Some(&w.name),
        "ServiceAccount" => {
            let account = super::diff::get(&w.value, "/spec/template/spec/serviceAccountName").and_then(Value::as_str);
            account == Some(&o.name) || (account.is_none() && o.name == w.name)
        }
        "ServiceMonitor" => {
            let sel = labels(&o.value, "/spec/selector/matchLabels");
            services.iter().any(|svc| subset(sel, labels(&svc.value, "/metadata/labels"))) || subset(sel, pods)
        }
        "AnalysisTemplate" => {
            mentions(&w.value, &o.name) || o.name.strip_prefix(w.name.as_str()).is_some_and(|r| r.starts_with('-'))
        }
        _ => named(&w.name) || alias(w).is_some_and(named),
    }
}

/// The names (`name`, `secretName` for a secret volume) under one of
/// `keys` in `v`: what [`refers`] finds.
fn referred<'a>(v: &'a Value, keys: &[&str], out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if keys.contains(&k.as_str()) {
                    out.extend(["name", "secretName"].iter().filter_map(|f| x.get(*f).and_then(Value::as_str)));
                }
                referred(x, keys, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| referred(x, keys, out)),
        _ => {}
    }
}

/// Whether a `name` (`secretName` for a secret volume) under one of `keys`
/// in `v` is `name`.
fn refers(v: &Value, keys: &[&str], name: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, x)| {
            let here = keys.contains(&k.as_str())
                && ["name", "secretName"].iter().any(|f| x.get(*f).and_then(Value::as_str) == Some(name));
            here || refers(x, keys, name)
        }),
        Value::Array(a) => a.iter().any(|x| refers(x, keys, name)),
        _ => false,
    }
}

/// Which workloads an object may belong to, found without scanning them
/// all (import of a thousand services stays linear): by name, by the
/// rarest label of the selector (a label every workload has, such as
/// `managed-by`, would make it quadratic), for a ServiceMonitor by its
/// Services' labels, and by the names the pods refer to (templates,
/// configuration, secrets).
struct Index {
    by_name: BTreeMap<String, usize>,
    by_label: Labels,
    /// Workloads by the account their pods run as (their own name without one).
    by_account: BTreeMap<String, Vec<usize>>,
    by_service_label: Labels,
    /// Workloads by a name they refer to: `templateName`s, ConfigMaps, Secrets.
    by_template: Refs,
    by_config: Refs,
    by_secret: Refs,
}

/// Workloads by a label (key, value as JSON), in input order.
type Labels = BTreeMap<(String, String), Vec<usize>>;
/// Workloads by a name they refer to, in input order.
type Refs = BTreeMap<String, Vec<usize>>;

const CONFIG_KEYS: &[&str] = &["configMap", "configMapRef", "configMapKeyRef"];
const SECRET_KEYS: &[&str] = &["secret", "secretRef", "secretKeyRef"];

/// The workloads that have every label of `sel`: a subset of the shortest
/// list among its labels' (no workload when a label has none).
fn narrowest(by: &Labels, sel: Option<&Map<String, Value>>) -> Vec<usize> {
    let mut best: Option<&Vec<usize>> = None;
    for (k, v) in sel.into_iter().flatten() {
        match by.get(&(k.clone(), v.to_string())) {
            None => return Vec::new(),
            Some(l) if best.is_none_or(|b| l.len() < b.len()) => best = Some(l),
            Some(_) => {}
        }
    }
    best.cloned().unwrap_or_default()
}

/// Every string a `templateName` key holds in a value.
fn template_names<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Some(name)) = (k == "templateName", x.as_str()) {
                    out.push(name);
                }
                template_names(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| template_names(x, out)),
        _ => {}
    }
}

/// Add workload `i` under each of `names` (once each).
fn index_refs(refs: &mut Refs, i: usize, mut names: Vec<&str>) {
    names.sort_unstable();
    names.dedup();
    for n in names {
        refs.entry(n.to_string()).or_default().push(i);
    }
}

impl Index {
    /// `kinds`: the kinds to place, so only the indexes they need are built.
    fn new(workloads: &[Object], kinds: &[&str]) -> Self {
        let mut by_name = BTreeMap::new();
        let mut by_label: Labels = BTreeMap::new();
        let mut by_account: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let (mut by_template, mut by_config, mut by_secret) = (Refs::new(), Refs::new(), Refs::new());
        let [templates, configs, secrets] =
            ["AnalysisTemplate", "ConfigMap", "ExternalSecret"].map(|k| kinds.contains(&k));
        for (i, w) in workloads.iter().enumerate() {
            by_name.insert(w.name.clone(), i);
            let mut names = Vec::new();
            if templates {
                template_names(&w.value, &mut names);
                index_refs(&mut by_template, i, std::mem::take(&mut names));
            }
            if configs {
                referred(&w.value, CONFIG_KEYS, &mut names);
                index_refs(&mut by_config, i, std::mem::take(&mut names));
            }
            if secrets {
                referred(&w.value, SECRET_KEYS, &mut names);
                index_refs(&mut by_secret, i, names);
            }
        }
        // A workload's service name finds its objects too (a name wins).
        for (i, w) in workloads.iter().enumerate() {
            if let Some(a) = alias(w) {
                by_name.entry(a.to_string()).or_insert(i);
            }
        }
        for (i, w) in workloads.iter().enumerate() {
            let account = super::diff::get(&w.value, "/spec/template/spec/serviceAccountName").and_then(Value::as_str);
            by_account.entry(account.unwrap_or(&w.name).to_string()).or_default().push(i);
            for (k, v) in labels(&w.value, "/spec/template/metadata/labels").into_iter().flatten() {
                by_label.entry((k.clone(), v.to_string())).or_default().push(i);
            }
        }
        Index { by_name, by_label, by_account, by_service_label: BTreeMap::new(), by_template, by_config, by_secret }
    }

    fn selected(&self, sel: Option<&Map<String, Value>>) -> Vec<usize> {
        narrowest(&self.by_label, sel)
    }

    /// The workloads named `name`, or a prefix of it cut at a `-`.
    fn named(&self, name: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self.by_name.get(name).into_iter().copied().collect();
        for (i, _) in name.match_indices('-') {
            out.extend(self.by_name.get(&name[..i]));
        }
        out.sort_unstable();
        out
    }

    /// A Service joined workload `i`: ServiceMonitors find it by its labels.
    fn add_service(&mut self, i: usize, o: &Object) {
        for (k, v) in labels(&o.value, "/metadata/labels").into_iter().flatten() {
            self.by_service_label.entry((k.clone(), v.to_string())).or_default().push(i);
        }
    }

    fn candidates(&self, o: &Object) -> Vec<usize> {
        let s = |p: &str| super::diff::get(&o.value, p).and_then(Value::as_str);
        let refs = |by: &Refs, name: &str| by.get(name).cloned().unwrap_or_default();
        match o.kind.as_str() {
            "Service" => self.selected(labels(&o.value, "/spec/selector")),
            "PodDisruptionBudget" => self.selected(labels(&o.value, "/spec/selector/matchLabels")),
            "HorizontalPodAutoscaler" => {
                s("/spec/scaleTargetRef/name").and_then(|n| self.by_name.get(n)).into_iter().copied().collect()
            }
            "ServiceMonitor" => {
                let sel = labels(&o.value, "/spec/selector/matchLabels");
                let mut out = self.selected(sel);
                out.extend(narrowest(&self.by_service_label, sel));
                out.sort_unstable();
                out.dedup();
                out
            }
            "ServiceAccount" => self.by_account.get(&o.name).cloned().unwrap_or_default(),
            "NetworkPolicy" => {
                let mut out = self.selected(labels(&o.value, "/spec/podSelector/matchLabels"));
                out.extend(self.named(&o.name));
                out.sort_unstable();
                out.dedup();
                out
            }
            "ScaledObject" => {
                s("/spec/scaleTargetRef/name").and_then(|n| self.by_name.get(n)).into_iter().copied().collect()
            }
            // A Rollout may name its templates anything (or `WORKLOAD-…`);
            // configuration is found by the references to it.
            "AnalysisTemplate" => {
                let mut out = refs(&self.by_template, &o.name);
                out.extend(self.named(&o.name));
                out.sort_unstable();
                out.dedup();
                out
            }
            "ConfigMap" => refs(&self.by_config, &o.name),
            "ExternalSecret" => refs(&self.by_secret, s("/spec/target/name").unwrap_or(&o.name)),
            _ => self.named(&o.name),
        }
    }
}

/// Whether a `templateName` in the workload names `name`.
fn mentions(v: &Value, name: &str) -> bool {
    match v {
        Value::Object(m) => {
            m.iter().any(|(k, x)| (k == "templateName" && x.as_str() == Some(name)) || mentions(x, name))
        }
        Value::Array(a) => a.iter().any(|x| mentions(x, name)),
        _ => false,
    }
}

/// Group the objects; errors and warnings go to `diags`.
pub fn group(objects: Vec<Object>, multi: bool, diags: &mut Vec<Diagnostic>) -> Grouped {
    let mut out = Grouped::default();
    let mut ledger = Ledger::default();
    refuse_secrets(&objects, diags);
    let by_env = by_environment(objects);
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut per_env: Vec<(String, Vec<Member>)> = Vec::new();
    for (env, objs) in by_env {
        let (workloads, rest): (Vec<Object>, Vec<Object>) =
            objs.into_iter().partition(|o| WORKLOADS.contains(&o.kind.as_str()));
        let workloads = unique(workloads, diags);
        let mut members: Vec<Vec<Object>> = vec![Vec::new(); workloads.len()];
        let kinds: Vec<&str> = rest.iter().map(|o| o.kind.as_str()).collect();
        let mut index = Index::new(&workloads, &kinds);
        // Services first: a ServiceMonitor follows the Service it selects.
        let (services, others): (Vec<Object>, Vec<Object>) = rest.into_iter().partition(|o| o.kind == "Service");
        for o in services.into_iter().chain(others) {
            let known = MEMBERS.contains(&o.kind.as_str());
            let home = known
                .then(|| {
                    index.candidates(&o).into_iter().find(|&i| {
                        let svcs: Vec<&Object> = members[i].iter().filter(|m| m.kind == "Service").collect();
                        belongs(&o, &workloads[i], &svcs)
                    })
                })
                .flatten();
            match home {
                Some(i) => {
                    if o.kind == "Service" {
                        index.add_service(i, &o);
                    }
                    members[i].push(o);
                }
                None => leftover(&o, known, &mut ledger, diags),
            }
        }
        for w in &workloads {
            names.entry(w.name.clone()).or_default().push(env.clone());
        }
        per_env.push((env, workloads.into_iter().zip(members).collect()));
    }
    out.leftovers = ledger.close().unwrap_or_default();
    let envs: Vec<String> = per_env.iter().map(|(e, _)| e.clone()).collect();
    if multi {
        missing_in_environments(&names, &envs, &per_env, diags);
    }
    if names.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        diags.push(
            Diagnostic::error(Code::ImportNothing, "the input holds no Deployment or Rollout: nothing to import")
                .help("import the files that hold the workloads too"),
        );
    }
    let service_names = service_names(&names, &per_env);
    // Each environment's workloads by name, moved (not copied) into their spec.
    let mut per_env: Vec<(String, BTreeMap<String, Member>)> =
        per_env.into_iter().map(|(env, ws)| (env, ws.into_iter().map(|m| (m.0.name.clone(), m)).collect())).collect();
    for (name, _) in names {
        let environments = per_env
            .iter_mut()
            .filter_map(|(env, ws)| {
                let (w, m) = ws.remove(&name)?;
                Some((env.clone(), std::iter::once(w).chain(m).collect()))
            })
            .collect();
        let name = service_names.get(&name).cloned().unwrap_or(name);
        out.workloads.push(Workload { name, environments });
    }
    out
}

/// A workload labelled `app.kubernetes.io/name` (svcc's own output, most
/// charts) is the service of that name, when the name is a valid one and no
/// other workload has it or claims it: `reviews-v1` of `reviews` becomes
/// `service reviews` with `names { workload "reviews-v1" }`.
fn service_names(names: &BTreeMap<String, Vec<String>>, per_env: &[(String, Vec<Member>)]) -> BTreeMap<String, String> {
    // The first workload of each name, across environments (found by name, not by a scan per name).
    let mut first: BTreeMap<&str, &Object> = BTreeMap::new();
    for (w, _) in per_env.iter().flat_map(|(_, ws)| ws) {
        first.entry(w.name.as_str()).or_insert(w);
    }
    let mut claimed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names.keys() {
        let label = first
            .get(name.as_str())
            .copied()
            .and_then(alias)
            .filter(|l| crate::values::check_dns1123_label(l).is_ok() && l.len() <= 63);
        if let Some(l) = label {
            claimed.entry(l.to_string()).or_default().push(name.clone());
        }
    }
    claimed
        .into_iter()
        .filter(|(label, ws)| ws.len() == 1 && (ws[0] == *label || !names.contains_key(label)))
        .map(|(label, ws)| (ws[0].clone(), label))
        .collect()
}

fn by_environment(objects: Vec<Object>) -> Vec<(String, Vec<Object>)> {
    let mut out: Vec<(String, Vec<Object>)> = Vec::new();
    for o in objects {
        match out.iter_mut().find(|(e, _)| *e == o.environment) {
            Some((_, v)) => v.push(o),
            None => out.push((o.environment.clone(), vec![o])),
        }
    }
    out
}

/// A Secret with values: refused, so no value reaches a spec file.
fn refuse_secrets(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    for o in objects.iter().filter(|o| o.kind == "Secret") {
        let full = |k: &str| o.value.get(k).and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        if full("data") || full("stringData") {
            diags.push(
                Diagnostic::error(Code::ImportSecretData, format!("`Secret/{}` holds data: svcc does not write secret values into a spec", o.name))
                    .at(head(o.span), "this Secret")
                    .help("leave the Secret out of the import and reference it: `env { NAME secret=\"…\" key=\"…\" }`, `env-from secret=\"…\"`, or an ExternalSecret"),
            );
        }
    }
}

/// Workloads of one environment, each name once (SVC0805), each a valid
/// service name (SVC0810).
fn unique(workloads: Vec<Object>, diags: &mut Vec<Diagnostic>) -> Vec<Object> {
    let mut out: Vec<Object> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for w in workloads {
        if let Some(first) = seen.get(&w.name).map(|&i| &out[i]) {
            diags.push(
                Diagnostic::error(Code::ImportDuplicateWorkload, format!("two workloads are named `{}`", w.name))
                    .at(head(w.span), format!("second `{}`", w.name))
                    .also(head(first.span), "first here")
                    .help("import the namespaces separately (`svcc import ns-a/ -o a/`), or rename one"),
            );
            continue;
        }
        if crate::values::check_dns1123_label(&w.name).is_err() || w.name.len() > 63 {
            diags.push(
                Diagnostic::error(
                    Code::ImportInvalidName,
                    format!("`{}` cannot name a service", w.name.escape_debug()),
                )
                .at(head(w.span), "this workload")
                .help("a service name is an RFC 1123 label: lowercase letters, digits and `-`, at most 63"),
            );
            continue;
        }
        seen.insert(w.name.clone(), out.len());
        out.push(w);
    }
    out
}

fn leftover(o: &Object, known: bool, ledger: &mut Ledger, diags: &mut Vec<Diagnostic>) {
    let (code, message, reason) = if known {
        (
            Code::ImportNoWorkload,
            format!("`{}/{}` belongs to no Deployment or Rollout of the input: not carried over", o.kind, o.name),
            "belongs to no workload of the input".to_string(),
        )
    } else {
        (
            Code::ImportUnknownKind,
            format!("`{}/{}` is a kind svcc does not generate: not carried over", o.kind, o.name),
            format!("svcc does not generate {}: keep it in deploy/SERVICE/ENV/extra/", o.kind),
        )
    };
    diags.push(
        Diagnostic::warning(code, message)
            .at(head(o.span), "this object")
            .help("keep it as a hand-written object in deploy/SERVICE/ENV/extra/ (docs/gitops.md)"),
    );
    let i = ledger.open(&o.environment, &o.kind, &o.name, o.source.clone(), &o.value);
    ledger.settle_under(i, "", &Fate::Dropped(reason));
}

fn missing_in_environments(
    names: &BTreeMap<String, Vec<String>>,
    envs: &[String],
    per_env: &[(String, Vec<Member>)],
    diags: &mut Vec<Diagnostic>,
) {
    for (name, have) in names {
        for env in envs.iter().filter(|e| !have.contains(e)) {
            let span = per_env.iter().flat_map(|(_, ws)| ws).find(|(w, _)| &w.name == name).map(|(w, _)| w.span);
            let mut d = Diagnostic::error(
                Code::ImportMissingInEnvironment,
                format!("`{name}` is in `{}` but not in `{env}`", have.join("`, `")),
            )
            .help("import only the environments that run it, or add it to the others first");
            if let Some(s) = span {
                d = d.at(head(s), "this workload");
            }
            diags.push(d);
        }
    }
}
