//! Layer merge: one [`Body`] overlaid on another.
//!
//! Every layer of a service goes through this one function, in the
//! documented precedence order (`docs/language.md`, "Presets and org
//! defaults"): svcc's built-in defaults < org defaults < presets < service <
//! environment. The rules: scalars replace; maps (env, labels, annotations,
//! resources, node selectors) merge key by key; keyed lists (ports, volumes,
//! env-from, tolerations, probes) merge item by item, and an item's own
//! fields replace one by one; patches accumulate in order. A layer may
//! refine an item only if a layer below declares it; a partial override of
//! something that does not exist is an error.
//!
//! Presets used together (`use "a"; use "b"`) are one layer: they are
//! combined in [`Mode::Combine`], where a setting that both give with
//! different values is a conflict, unless the file that uses them sets it
//! itself ([`Merger::set_paths`] records what a layer sets).

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::{Span, Spanned};

/// How the upper layer relates to the lower one.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// The upper layer wins (service over presets, environment over service).
    Override,
    /// Two presets used together: differing values are conflicts. `at` is
    /// the `use` of the upper preset.
    Combine { at: Span },
}

/// Two presets used together set one setting differently.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub path: String,
    pub first: Span,
    pub second: Span,
    pub at: Span,
}

/// One merge step's context.
pub struct Merger<'d> {
    diags: &'d mut Diagnostics,
    /// What the upper layer is, for messages (e.g. "environment `staging`").
    what: String,
    /// Where the lower layer is, for "it does not declare it" labels.
    base_site: Span,
    /// Says that the lower layers lack an item, e.g. "the service does not declare".
    below: String,
    mode: Mode,
    pub conflicts: Vec<Conflict>,
    /// Every setting the upper layer gives (`replicas`, `labels.team`, …).
    pub set_paths: Vec<String>,
}

/// A value that can take part in a conflict.
trait Site {
    fn site(&self) -> Span;
    fn same(&self, other: &Self) -> bool;
}

impl<T: PartialEq> Site for Spanned<T> {
    fn site(&self) -> Span {
        self.span
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Site for SecurityException {
    fn site(&self) -> Span {
        self.name.span
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

impl Site for EnvVar {
    fn site(&self) -> Span {
        self.name.span
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

fn or<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
    over.clone().or_else(|| base.clone())
}

fn merge_map<V: Clone>(base: &Map<V>, over: &Map<V>) -> Map<V> {
    let mut out = base.clone();
    for (k, v) in over {
        out.insert(k.clone(), v.clone());
    }
    out
}

impl<'d> Merger<'d> {
    pub fn new(diags: &'d mut Diagnostics, what: impl Into<String>, base_site: Span, mode: Mode) -> Self {
        Merger {
            diags,
            what: what.into(),
            base_site,
            below: "the service does not declare".into(),
            mode,
            conflicts: Vec::new(),
            set_paths: Vec::new(),
        }
    }

    /// How messages say that the lower layers lack an item.
    pub fn below(mut self, below: impl Into<String>) -> Self {
        self.below = below.into();
        self
    }

    /// A scalar setting: the upper value wins.
    fn pick<T: Clone + Site>(&mut self, path: &str, over: &Option<T>, base: &Option<T>) -> Option<T> {
        if let Some(o) = over {
            self.set_paths.push(path.to_string());
            if let (Mode::Combine { at }, Some(b)) = (self.mode, base)
                && !o.same(b)
            {
                self.conflicts.push(Conflict { path: path.to_string(), first: b.site(), second: o.site(), at });
            }
        }
        or(over, base)
    }

    /// A map whose entries can conflict.
    fn map<V: Clone + Site>(&mut self, path: &str, base: &Map<V>, over: &Map<V>) -> Map<V> {
        for (k, v) in over {
            let _ = self.pick(&format!("{path}.{k}"), &Some(v.clone()), &base.get(k).cloned());
        }
        merge_map(base, over)
    }

    fn no_base(&mut self, what: String, at: Span, help: &str) {
        self.diags.push(
            Diagnostic::error(Code::OverrideWithoutBase, what)
                .at(at, "overridden here")
                .also(self.base_site, format!("{} it", self.below))
                .help(help.to_string()),
        );
    }
}

/// An environment over its service.
pub fn merge(spec: &Spec, env: &Environment, diags: &mut Diagnostics) -> Body {
    let mut m = Merger::new(diags, format!("environment `{}`", env.name.value), spec.name.span, Mode::Override);
    layer(&spec.body, &env.body, &mut m)
}

/// `over` laid on `base` (see the module documentation).
pub fn layer(b: &Body, o: &Body, c: &mut Merger<'_>) -> Body {
    let mut m = b.clone();

    m.image = match (&b.image, &o.image) {
        (Some(bi), Some(oi)) => Some(Image {
            node: oi.node,
            repository: c.pick("image", &oi.repository, &bi.repository),
            // A tag or digest belongs to its repository: a layer that names
            // another repository does not inherit the one below's.
            tag: if oi.repository.is_some() { oi.tag.clone() } else { c.pick("image.tag", &oi.tag, &bi.tag) },
            digest: if oi.repository.is_some() {
                oi.digest.clone()
            } else {
                c.pick("image.digest", &oi.digest, &bi.digest)
            },
            pull_policy: c.pick("image.pull-policy", &oi.pull_policy, &bi.pull_policy),
        }),
        (None, Some(oi)) => {
            c.set_paths.extend(["image", "image.tag", "image.digest", "image.pull-policy"].map(String::from));
            Some(oi.clone())
        }
        (bi, None) => bi.clone(),
    };
    m.namespace = c.pick("namespace", &o.namespace, &b.namespace);

    for (name, op) in &o.ports {
        match b.ports.get(name) {
            Some(bp) => {
                m.ports.insert(
                    name.clone(),
                    Port {
                        name: bp.name.clone(),
                        number: c.pick(&format!("port.{name}"), &op.number, &bp.number),
                        service_port: c.pick(&format!("port.{name}.service-port"), &op.service_port, &bp.service_port),
                        protocol: c.pick(&format!("port.{name}.protocol"), &op.protocol, &bp.protocol),
                    },
                );
            }
            None => {
                if op.number.is_none() {
                    c.no_base(
                        format!("{} refines port `{name}`, which {}", c.what, c.below),
                        op.name.span,
                        "declare the port in the service (`port NAME NUMBER`), or give it a number here",
                    );
                } else {
                    m.ports.insert(name.clone(), op.clone());
                }
            }
        }
    }

    m.replicas = c.pick("replicas", &o.replicas, &b.replicas);
    for (k, v) in &o.resources.requests {
        let _ = c.pick(
            &format!("resources.requests.{}", k.k8s_name()),
            &Some(v.clone()),
            &b.resources.requests.get(k).cloned(),
        );
        m.resources.requests.insert(*k, v.clone());
    }
    for (k, v) in &o.resources.limits {
        let _ = c.pick(
            &format!("resources.limits.{}", k.k8s_name()),
            &Some(v.clone()),
            &b.resources.limits.get(k).cloned(),
        );
        m.resources.limits.insert(*k, v.clone());
    }

    for kind in [ProbeKind::Liveness, ProbeKind::Readiness, ProbeKind::Startup] {
        let Some(op) = o.probes.get(kind) else {
            continue;
        };
        let merged = match (op, b.probes.get(kind)) {
            (ProbeSetting::Off(s), _) => ProbeSetting::Off(*s),
            (ProbeSetting::On(p), Some(ProbeSetting::On(bp))) => ProbeSetting::On(Probe {
                node: p.node,
                handler: c.pick(&format!("probes.{}.handler", kind.name()), &p.handler, &bp.handler),
                port: c.pick(&format!("probes.{}.port", kind.name()), &p.port, &bp.port),
                scheme: c.pick(&format!("probes.{}.scheme", kind.name()), &p.scheme, &bp.scheme),
                grpc_service: c.pick(&format!("probes.{}.service", kind.name()), &p.grpc_service, &bp.grpc_service),
                initial_delay: c.pick(
                    &format!("probes.{}.initial-delay", kind.name()),
                    &p.initial_delay,
                    &bp.initial_delay,
                ),
                period: c.pick(&format!("probes.{}.period", kind.name()), &p.period, &bp.period),
                timeout: c.pick(&format!("probes.{}.timeout", kind.name()), &p.timeout, &bp.timeout),
                failure_threshold: c.pick(
                    &format!("probes.{}.failure-threshold", kind.name()),
                    &p.failure_threshold,
                    &bp.failure_threshold,
                ),
                success_threshold: c.pick(
                    &format!("probes.{}.success-threshold", kind.name()),
                    &p.success_threshold,
                    &bp.success_threshold,
                ),
            }),
            (ProbeSetting::On(p), _) => {
                if p.handler.is_none() {
                    c.no_base(
                        format!("{} refines the {} probe, which {}", c.what, kind.name(), c.below),
                        p.node,
                        "declare the probe in the service, or say what to probe here (e.g. `\"/healthz\"`)",
                    );
                    continue;
                }
                ProbeSetting::On(p.clone())
            }
        };
        *m.probes.slot(kind) = Some(merged);
    }

    m.env = c.map("env", &b.env, &o.env);
    m.env_from = merge_map(&b.env_from, &o.env_from);
    m.command = c.pick("command", &o.command, &b.command);
    m.args = c.pick("args", &o.args, &b.args);
    m.labels = c.map("labels", &b.labels, &o.labels);
    m.annotations = c.map("annotations", &b.annotations, &o.annotations);
    m.pod_annotations = c.map("pod-annotations", &b.pod_annotations, &o.pod_annotations);

    for (name, ov) in &o.volumes {
        match b.volumes.get(name) {
            Some(bv) => {
                let mut v = ov.clone();
                v.path = c.pick(&format!("volumes.{name}"), &ov.path, &bv.path);
                v.size_limit = c.pick(&format!("volumes.{name}.size-limit"), &ov.size_limit, &bv.size_limit);
                v.source = or(&ov.source, &bv.source);
                v.memory = c.pick(&format!("volumes.{name}.memory"), &ov.memory, &bv.memory);
                m.volumes.insert(name.clone(), v);
            }
            None => {
                if ov.path.is_none() {
                    c.no_base(
                        format!("{} refines volume `{name}`, which {}", c.what, c.below),
                        ov.name.span,
                        "declare the volume in the service, or give its mount path here",
                    );
                } else {
                    m.volumes.insert(name.clone(), ov.clone());
                }
            }
        }
    }

    m.service_account = match (&b.service_account, &o.service_account) {
        (Some(bs), Some(os)) => Some(ServiceAccount {
            node: os.node,
            name: c.pick("service-account.name", &os.name, &bs.name),
            create: c.pick("service-account.create", &os.create, &bs.create),
            automount: c.pick("service-account.automount-token", &os.automount, &bs.automount),
            annotations: merge_map(&bs.annotations, &os.annotations),
        }),
        (bs, os) => or(os, bs),
    };

    let (bs, os) = (&b.security, &o.security);
    m.security = Security {
        run_as_user: c.pick("security.run-as-user", &os.run_as_user, &bs.run_as_user),
        run_as_group: c.pick("security.run-as-group", &os.run_as_group, &bs.run_as_group),
        fs_group: c.pick("security.fs-group", &os.fs_group, &bs.fs_group),
        run_as_non_root: c.pick("security.run-as-non-root", &os.run_as_non_root, &bs.run_as_non_root),
        read_only_root_filesystem: c.pick(
            "security.read-only-root-filesystem",
            &os.read_only_root_filesystem,
            &bs.read_only_root_filesystem,
        ),
        allow_privilege_escalation: c.pick(
            "security.allow-privilege-escalation",
            &os.allow_privilege_escalation,
            &bs.allow_privilege_escalation,
        ),
        add_capabilities: c.pick("security.add-capabilities", &os.add_capabilities, &bs.add_capabilities),
        seccomp: c.pick("security.seccomp", &os.seccomp, &bs.seccomp),
        allow: c.map("security.allow", &bs.allow, &os.allow),
    };

    m.autoscale = match (&b.autoscale, &o.autoscale) {
        (_, Some(oa)) if oa.enabled.as_ref().is_some_and(|e| !e.value) => Some(oa.clone()),
        (Some(ba), Some(oa)) => Some(Autoscale {
            node: oa.node,
            enabled: c.pick("autoscale.enabled", &oa.enabled, &ba.enabled),
            min: c.pick("autoscale.min", &oa.min, &ba.min),
            max: c.pick("autoscale.max", &oa.max, &ba.max),
            cpu: c.pick("autoscale.cpu", &oa.cpu, &ba.cpu),
            memory: c.pick("autoscale.memory", &oa.memory, &ba.memory),
            pods: merge_map(&ba.pods, &oa.pods),
            scale_up: or(&oa.scale_up, &ba.scale_up),
            scale_down: or(&oa.scale_down, &ba.scale_down),
        }),
        (None, Some(oa)) => {
            if oa.min.is_none() || oa.max.is_none() {
                c.no_base(
                    format!("{} refines `autoscale`, which {}", c.what, c.below),
                    oa.node,
                    "give both bounds here (`autoscale min=2 max=10`), or declare `autoscale` in the service",
                );
                None
            } else {
                Some(oa.clone())
            }
        }
        (ba, None) => ba.clone(),
    };

    m.rolling = Rolling {
        max_surge: c.pick("rolling-update.max-surge", &o.rolling.max_surge, &b.rolling.max_surge),
        max_unavailable: c.pick(
            "rolling-update.max-unavailable",
            &o.rolling.max_unavailable,
            &b.rolling.max_unavailable,
        ),
    };
    m.shutdown = Shutdown {
        pre_stop: c.pick("shutdown.pre-stop", &o.shutdown.pre_stop, &b.shutdown.pre_stop),
        grace: c.pick("shutdown.grace", &o.shutdown.grace, &b.shutdown.grace),
    };
    m.disruption = or(&o.disruption, &b.disruption);
    m.node_selector = c.map("node-selector", &b.node_selector, &o.node_selector);
    m.tolerations = merge_map(&b.tolerations, &o.tolerations);
    m.metrics = match (&b.metrics, &o.metrics) {
        (Some(bm), Some(om)) => Some(Metrics {
            node: om.node,
            path: c.pick("metrics.path", &om.path, &bm.path),
            port: c.pick("metrics.port", &om.port, &bm.port),
            interval: or(&om.interval, &bm.interval),
            scheme: or(&om.scheme, &bm.scheme),
            requests: or(&om.requests, &bm.requests),
            status_label: or(&om.status_label, &bm.status_label),
            latency: or(&om.latency, &bm.latency),
            prometheus_labels: merge_map(&bm.prometheus_labels, &om.prometheus_labels),
            prometheus: or(&om.prometheus, &bm.prometheus),
        }),
        (bm, om) => or(om, bm),
    };
    m.alerts = Alerts {
        node: o.alerts.node.or(b.alerts.node),
        severity: or(&o.alerts.severity, &b.alerts.severity),
        runbook: or(&o.alerts.runbook, &b.alerts.runbook),
        labels: merge_map(&b.alerts.labels, &o.alerts.labels),
        rules: b.alerts.rules.clone(),
    };
    for (key, or_) in &o.alerts.rules {
        let merged = match b.alerts.rules.get(key) {
            Some(br) => AlertRule {
                kind: br.kind,
                name: or_.name.clone(),
                enabled: or(&or_.enabled, &br.enabled),
                above: or(&or_.above, &br.above),
                above_duration: or(&or_.above_duration, &br.above_duration),
                quantile: or(&or_.quantile, &br.quantile),
                for_: or(&or_.for_, &br.for_),
                within: or(&or_.within, &br.within),
                severity: or(&or_.severity, &br.severity),
                runbook: or(&or_.runbook, &br.runbook),
                summary: or(&or_.summary, &br.summary),
                description: or(&or_.description, &br.description),
                expr: or(&or_.expr, &br.expr),
            },
            None => or_.clone(),
        };
        m.alerts.rules.insert(key.clone(), merged);
    }
    for (key, os) in &o.slos {
        let merged = match b.slos.get(key) {
            Some(bs) => Slo {
                kind: bs.kind,
                name: os.name.clone(),
                objective: or(&os.objective, &bs.objective),
                window: or(&os.window, &bs.window),
                threshold: or(&os.threshold, &bs.threshold),
            },
            None => os.clone(),
        };
        m.slos.insert(key.clone(), merged);
    }
    merge_delivery(b, o, &mut m);
    m.patches = b.patches.iter().chain(&o.patches).cloned().collect();
    m
}

/// Update strategies: an environment's `blue-green` or `canary` merges field
/// by field with the service's block of the same kind (analysis sets, steps
/// and traffic replace as a whole); declaring the other kind switches the
/// environment to it; `blue-green #false` / `canary #false` turns it off.
fn merge_delivery(b: &Body, o: &Body, m: &mut Body) {
    let on = |e: &Option<crate::source::Spanned<bool>>| e.as_ref().is_none_or(|e| e.value);
    if let Some(ob) = &o.blue_green {
        m.blue_green = match &b.blue_green {
            Some(bb) if on(&ob.enabled) => Some(BlueGreen {
                node: ob.node,
                enabled: ob.enabled.clone(),
                deploy_budget: or(&ob.deploy_budget, &bb.deploy_budget),
                auto_promote: or(&ob.auto_promote, &bb.auto_promote),
                rollback_window: or(&ob.rollback_window, &bb.rollback_window),
                preview_replicas: or(&ob.preview_replicas, &bb.preview_replicas),
                pre_promotion: or(&ob.pre_promotion, &bb.pre_promotion),
                post_promotion: or(&ob.post_promotion, &bb.post_promotion),
            }),
            _ => Some(ob.clone()),
        };
        if on(&ob.enabled) && o.canary.is_none() {
            m.canary = None;
        }
    }
    if let Some(oc) = &o.canary {
        m.canary = match &b.canary {
            Some(bc) if on(&oc.enabled) => Some(Canary {
                node: oc.node,
                enabled: oc.enabled.clone(),
                deploy_budget: or(&oc.deploy_budget, &bc.deploy_budget),
                auto_promote: or(&oc.auto_promote, &bc.auto_promote),
                max_surge: or(&oc.max_surge, &bc.max_surge),
                max_unavailable: or(&oc.max_unavailable, &bc.max_unavailable),
                traffic: or(&oc.traffic, &bc.traffic),
                background: or(&oc.background, &bc.background),
                steps: or(&oc.steps, &bc.steps),
            }),
            _ => Some(oc.clone()),
        };
        if on(&oc.enabled) && o.blue_green.is_none() {
            m.blue_green = None;
        }
    }
}
