//! Environment merge: `service` settings overlaid with one `environment`.
//!
//! The rules (documented in `docs/language.md`): scalars replace; maps
//! (env, labels, annotations, resources, node selectors) merge key by key;
//! keyed lists (ports, volumes, env-from, tolerations, probes) merge item by
//! item, and an item's own fields replace one by one. An environment may
//! refine an item only if the service declares it; a partial override of
//! something that does not exist is an error.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;

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

fn no_base(what: String, at: crate::source::Span, service: crate::source::Span, help: &str) -> Diagnostic {
    Diagnostic::error(Code::OverrideWithoutBase, what)
        .at(at, "overridden here")
        .also(service, "the service does not declare it")
        .help(help.to_string())
}

pub fn merge(spec: &Spec, env: &Environment, diags: &mut Diagnostics) -> Body {
    let b = &spec.body;
    let o = &env.body;
    let service = spec.name.span;
    let mut m = b.clone();

    m.image = match (&b.image, &o.image) {
        (Some(bi), Some(oi)) => Some(Image {
            node: oi.node,
            repository: or(&oi.repository, &bi.repository),
            // A tag or digest belongs to its repository: an environment that
            // names another repository does not inherit the service's.
            tag: if oi.repository.is_some() { oi.tag.clone() } else { or(&oi.tag, &bi.tag) },
            digest: if oi.repository.is_some() { oi.digest.clone() } else { or(&oi.digest, &bi.digest) },
            pull_policy: or(&oi.pull_policy, &bi.pull_policy),
        }),
        (None, Some(oi)) => Some(oi.clone()),
        (bi, None) => bi.clone(),
    };
    m.namespace = or(&o.namespace, &b.namespace);

    for (name, op) in &o.ports {
        match b.ports.get(name) {
            Some(bp) => {
                m.ports.insert(
                    name.clone(),
                    Port {
                        name: bp.name.clone(),
                        number: or(&op.number, &bp.number),
                        service_port: or(&op.service_port, &bp.service_port),
                        protocol: or(&op.protocol, &bp.protocol),
                    },
                );
            }
            None => {
                if op.number.is_none() {
                    diags.push(no_base(
                        format!(
                            "environment `{}` refines port `{name}`, which the service does not declare",
                            env.name.value
                        ),
                        op.name.span,
                        service,
                        "declare the port in the service (`port NAME NUMBER`), or give it a number here",
                    ));
                } else {
                    m.ports.insert(name.clone(), op.clone());
                }
            }
        }
    }

    m.replicas = or(&o.replicas, &b.replicas);
    for (k, v) in &o.resources.requests {
        m.resources.requests.insert(*k, v.clone());
    }
    for (k, v) in &o.resources.limits {
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
                handler: or(&p.handler, &bp.handler),
                port: or(&p.port, &bp.port),
                scheme: or(&p.scheme, &bp.scheme),
                grpc_service: or(&p.grpc_service, &bp.grpc_service),
                initial_delay: or(&p.initial_delay, &bp.initial_delay),
                period: or(&p.period, &bp.period),
                timeout: or(&p.timeout, &bp.timeout),
                failure_threshold: or(&p.failure_threshold, &bp.failure_threshold),
                success_threshold: or(&p.success_threshold, &bp.success_threshold),
            }),
            (ProbeSetting::On(p), _) => {
                if p.handler.is_none() {
                    diags.push(no_base(
                        format!(
                            "environment `{}` refines the {} probe, which the service does not declare",
                            env.name.value,
                            kind.name()
                        ),
                        p.node,
                        service,
                        "declare the probe in the service, or say what to probe here (e.g. `\"/healthz\"`)",
                    ));
                    continue;
                }
                ProbeSetting::On(p.clone())
            }
        };
        *m.probes.slot(kind) = Some(merged);
    }

    m.env = merge_map(&b.env, &o.env);
    m.env_from = merge_map(&b.env_from, &o.env_from);
    m.command = or(&o.command, &b.command);
    m.args = or(&o.args, &b.args);
    m.labels = merge_map(&b.labels, &o.labels);
    m.annotations = merge_map(&b.annotations, &o.annotations);
    m.pod_annotations = merge_map(&b.pod_annotations, &o.pod_annotations);

    for (name, ov) in &o.volumes {
        match b.volumes.get(name) {
            Some(bv) => {
                let mut v = ov.clone();
                v.path = or(&ov.path, &bv.path);
                v.source = or(&ov.source, &bv.source);
                v.size_limit = or(&ov.size_limit, &bv.size_limit);
                v.memory = or(&ov.memory, &bv.memory);
                m.volumes.insert(name.clone(), v);
            }
            None => {
                if ov.path.is_none() {
                    diags.push(no_base(
                        format!(
                            "environment `{}` refines volume `{name}`, which the service does not declare",
                            env.name.value
                        ),
                        ov.name.span,
                        service,
                        "declare the volume in the service, or give its mount path here",
                    ));
                } else {
                    m.volumes.insert(name.clone(), ov.clone());
                }
            }
        }
    }

    m.service_account = match (&b.service_account, &o.service_account) {
        (Some(bs), Some(os)) => Some(ServiceAccount {
            node: os.node,
            name: or(&os.name, &bs.name),
            create: or(&os.create, &bs.create),
            automount: or(&os.automount, &bs.automount),
            annotations: merge_map(&bs.annotations, &os.annotations),
        }),
        (bs, os) => or(os, bs),
    };

    let (bs, os) = (&b.security, &o.security);
    m.security = Security {
        run_as_user: or(&os.run_as_user, &bs.run_as_user),
        run_as_group: or(&os.run_as_group, &bs.run_as_group),
        fs_group: or(&os.fs_group, &bs.fs_group),
        run_as_non_root: or(&os.run_as_non_root, &bs.run_as_non_root),
        read_only_root_filesystem: or(&os.read_only_root_filesystem, &bs.read_only_root_filesystem),
        allow_privilege_escalation: or(&os.allow_privilege_escalation, &bs.allow_privilege_escalation),
        add_capabilities: or(&os.add_capabilities, &bs.add_capabilities),
        seccomp: or(&os.seccomp, &bs.seccomp),
    };

    m.autoscale = match (&b.autoscale, &o.autoscale) {
        (_, Some(oa)) if oa.enabled.as_ref().is_some_and(|e| !e.value) => Some(oa.clone()),
        (Some(ba), Some(oa)) => Some(Autoscale {
            node: oa.node,
            enabled: or(&oa.enabled, &ba.enabled),
            min: or(&oa.min, &ba.min),
            max: or(&oa.max, &ba.max),
            cpu: or(&oa.cpu, &ba.cpu),
            memory: or(&oa.memory, &ba.memory),
            pods: merge_map(&ba.pods, &oa.pods),
            scale_up: or(&oa.scale_up, &ba.scale_up),
            scale_down: or(&oa.scale_down, &ba.scale_down),
        }),
        (None, Some(oa)) => {
            if oa.min.is_none() || oa.max.is_none() {
                diags.push(no_base(
                    format!("environment `{}` refines `autoscale`, which the service does not declare", env.name.value),
                    oa.node,
                    service,
                    "give both bounds here (`autoscale min=2 max=10`), or declare `autoscale` in the service",
                ));
                None
            } else {
                Some(oa.clone())
            }
        }
        (ba, None) => ba.clone(),
    };

    m.rolling = Rolling {
        max_surge: or(&o.rolling.max_surge, &b.rolling.max_surge),
        max_unavailable: or(&o.rolling.max_unavailable, &b.rolling.max_unavailable),
    };
    m.shutdown = Shutdown {
        pre_stop: or(&o.shutdown.pre_stop, &b.shutdown.pre_stop),
        grace: or(&o.shutdown.grace, &b.shutdown.grace),
    };
    m.disruption = or(&o.disruption, &b.disruption);
    m.node_selector = merge_map(&b.node_selector, &o.node_selector);
    m.tolerations = merge_map(&b.tolerations, &o.tolerations);
    m.metrics = match (&b.metrics, &o.metrics) {
        (Some(bm), Some(om)) => Some(Metrics {
            node: om.node,
            path: or(&om.path, &bm.path),
            port: or(&om.port, &bm.port),
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
