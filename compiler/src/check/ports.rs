//! `port NAME NUMBER`: the container and Service ports, each number used
//! once, and the lookup every block that names a port goes through.

use std::collections::BTreeMap;

use super::merge::Merger;
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Expose, ExposePort, Map, Port};
use crate::plan::{PlanDelivery, PlanMonitoring, PlanName, PlanNames, PlanPort, PlanService, PlanServicePort};
use crate::settings as s;
use crate::source::{Span, Spanned};

/// The resolved ports, and the declared ones (some may lack a number,
/// which is reported once).
pub(super) struct Ports<'b> {
    pub list: Vec<PlanPort>,
    declared: &'b Map<Port>,
    /// The ports of the sidecars (not of init containers): what a Service
    /// port's `target=` and `metrics port=` may name besides the service's
    /// own (a TLS proxy in front of it, an exporter beside it).
    pub sidecars: Vec<PlanPort>,
}

/// Item by item, by name; the number, `service-port=` and `protocol=`
/// replace one by one. A new port needs its number.
pub(super) fn merge(c: &mut Merger<'_>, base: &Map<Port>, over: &Map<Port>) -> Map<Port> {
    let mut out = base.clone();
    for (name, o) in over {
        let Port { name: o_name, number, service_port, protocol, host_port } = o;
        match base.get(name) {
            Some(b) => {
                let Port {
                    name: b_name,
                    number: b_number,
                    service_port: b_service_port,
                    protocol: b_protocol,
                    host_port: b_host_port,
                } = b;
                let merged = Port {
                    name: b_name.clone(),
                    number: c.pick_at(&s::PORT, name, number, b_number),
                    service_port: c.pick_at(&s::PORT_SERVICE_PORT, name, service_port, b_service_port),
                    protocol: c.pick_at(&s::PORT_PROTOCOL, name, protocol, b_protocol),
                    host_port: c.pick_at(&s::PORT_HOST_PORT, name, host_port, b_host_port),
                };
                out.insert(name.clone(), merged);
            }
            None if number.is_none() => c.refines(
                &format!("port `{name}`"),
                o_name.span,
                "declare the port in the service (`port NAME NUMBER`), or give it a number here",
            ),
            None => {
                out.insert(name.clone(), o.clone());
            }
        }
    }
    out
}

pub(super) fn resolve<'b>(declared: &'b Map<Port>, diags: &mut Diagnostics) -> Ports<'b> {
    let mut list = Vec::new();
    let mut by_number: BTreeMap<(u16, String), Span> = BTreeMap::new();
    let mut by_service_port: BTreeMap<(u16, String), Span> = BTreeMap::new();
    for p in declared.values() {
        let Some(number) = &p.number else {
            diags.push(
                Diagnostic::error(Code::MissingValue, format!("port `{}` has no number", p.name.value))
                    .at(p.name.span, "needs a port number")
                    .help(format!("write `port {} 8080`", p.name.value)),
            );
            continue;
        };
        let protocol = p.protocol.as_ref().map_or("TCP".to_string(), |x| x.value.clone());
        let number_taken = by_number.contains_key(&(number.value, protocol.clone()));
        if let Some(first) = by_number.get(&(number.value, protocol.clone())) {
            diags.push(
                Diagnostic::error(Code::DuplicatePort, format!("port number {} is used twice", number.value))
                    .at(number.span, "used again here")
                    .also(*first, "first used here")
                    .help("each container port needs its own number"),
            );
        } else {
            by_number.insert((number.value, protocol.clone()), number.span);
        }
        let service_port = p.service_port.as_ref().unwrap_or(number);
        if let Some(first) = by_service_port.get(&(service_port.value, protocol.clone())) {
            // With the default service port, a repeated number is already reported.
            if *first != number.span && !(number_taken && p.service_port.is_none()) {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicatePort,
                        format!("service port {} is used twice", service_port.value),
                    )
                    .at(service_port.span, "used again here")
                    .also(*first, "first used here")
                    .help("give one of them a different `service-port=`"),
                );
            }
        } else {
            by_service_port.insert((service_port.value, protocol.clone()), service_port.span);
        }
        list.push(PlanPort {
            name: p.name.value.clone(),
            number: number.value,
            service_port: service_port.value,
            protocol,
            host_port: p.host_port.as_ref().map(|h| h.value),
            span: number.span,
        });
    }
    Ports { list, declared, sidecars: Vec::new() }
}

impl Ports<'_> {
    /// The first declared port, even one without a number (the default
    /// port of probes).
    pub fn first_declared(&self) -> Option<&Port> {
        self.declared.values().next()
    }

    /// The port a reference names: by name, or by number (its digits);
    /// the service's container's first, then its sidecars'.
    pub fn port(&self, r: &str) -> Option<&PlanPort> {
        let mut all = self.list.iter().chain(&self.sidecars);
        match r.parse::<u16>() {
            Ok(n) => all.find(|p| p.number == n),
            Err(_) => all.find(|p| p.name == r),
        }
    }

    /// These ports and the sidecars' of `others`.
    pub fn with_sidecars(&self, others: &[crate::plan::PlanContainer]) -> Self {
        use crate::plan::Role;
        let sidecars = others
            .iter()
            .filter(|c| matches!(c.role, Role::Sidecar | Role::NativeSidecar))
            .flat_map(|c| c.ports.iter().cloned())
            .collect();
        Ports { list: self.list.clone(), declared: self.declared, sidecars }
    }

    /// Whether the spec declares no port at all.
    pub fn none_declared(&self) -> bool {
        self.declared.is_empty()
    }

    /// The number of the port `name`, which `what` uses (SVC0302 when it is
    /// not declared; `None` without a report when it is declared without a
    /// number, which is reported already).
    pub fn find(&self, name: &Spanned<String>, what: &str, diags: &mut Diagnostics) -> Option<u16> {
        if let Some(p) = self.port(&name.value) {
            return Some(p.number);
        }
        if let Ok(n) = name.value.parse::<u16>() {
            let numbers: Vec<String> = self.list.iter().map(|p| p.number.to_string()).collect();
            let d = Diagnostic::error(Code::UnknownPort, format!("{what} uses port {n}, which is not declared"))
                .at(name.span, "no port has this number")
                .help(if numbers.is_empty() {
                    format!("declare it: `port http {n}`")
                } else {
                    format!("declared port numbers: {}", numbers.join(", "))
                });
            diags.push(d);
            return None;
        }
        if self.declared.contains_key(&name.value) {
            return None;
        }
        let names: Vec<&str> = self.declared.keys().map(String::as_str).collect();
        let mut d =
            Diagnostic::error(Code::UnknownPort, format!("{what} uses port `{}`, which is not declared", name.value))
                .at(name.span, "no port has this name");
        d = match did_you_mean(&name.value, &names) {
            Some(s) => d.did_you_mean(s, name.span, crate::diagnostic::kdl_string(s)),
            None if names.is_empty() => d.help(format!("declare it: `port {} 8080`", name.value)),
            None => d.help(format!("declared ports: {}", names.join(", "))),
        };
        diags.push(d);
        None
    }
}

/// `expose` item by item, by name: `#false`, `type=`, `headless=` and
/// `external-traffic-policy=` replace one by one, the `port` list as a
/// whole.
pub(super) fn merge_exposes(c: &mut Merger<'_>, base: &Map<Expose>, over: &Map<Expose>) -> Map<Expose> {
    let mut out = base.clone();
    for (key, o) in over {
        let Expose { name: _, enabled, type_, headless, external_traffic_policy, ports } = o;
        let Some(b) = base.get(key) else {
            out.insert(key.clone(), o.clone());
            continue;
        };
        let Expose {
            name: b_name,
            enabled: b_enabled,
            type_: b_type,
            headless: b_headless,
            external_traffic_policy: b_external_traffic_policy,
            ports: b_ports,
        } = b;
        let merged = Expose {
            name: b_name.clone(),
            enabled: c.pick_at(&s::EXPOSE, key, enabled, b_enabled),
            type_: c.pick_at(&s::EXPOSE_TYPE, key, type_, b_type),
            headless: c.pick_at(&s::EXPOSE_HEADLESS, key, headless, b_headless),
            external_traffic_policy: c.pick_at(
                &s::EXPOSE_EXTERNAL_TRAFFIC_POLICY,
                key,
                external_traffic_policy,
                b_external_traffic_policy,
            ),
            ports: c.pick_at(&s::EXPOSE_PORT, key, ports, b_ports),
        };
        out.insert(key.clone(), merged);
    }
    out
}

/// SVC0360: a Service setting its type does not allow.
fn type_mismatch(at: Span, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(Code::ServiceType, message).at(at, "not for this Service type").help(help.to_string())
}

/// The Services: the main one (named by `names service`, shaped by the
/// `expose` of that name, else one port per `port`) when the service has
/// ports, then every other `expose`.
pub(super) fn services(
    ports: &Ports<'_>,
    exposes: &Map<Expose>,
    names: &PlanNames,
    origin: Span,
    diags: &mut Diagnostics,
) -> Vec<PlanService> {
    let main = &names.service;
    let on = |x: &&Expose| x.enabled.as_ref().is_none_or(|e| e.value);
    let mut out = Vec::new();
    match exposes.get(&main.name) {
        Some(x) if !on(&x) => diags.push(
            Diagnostic::error(Code::ServiceType, format!("the main Service `{}` cannot be left out", main.name))
                .at(x.enabled.as_ref().map_or(x.name.span, |e| e.span), "turns off the main Service")
                .help("the Rollout, the ServiceMonitor and the analyses address the service through it; to expose no port, declare none"),
        ),
        Some(x) => out.extend(service(Some(x), main.clone(), false, ports, main.span.unwrap_or(x.name.span), diags)),
        None if ports.list.is_empty() => {}
        None => out.extend(service(None, main.clone(), false, ports, main.span.unwrap_or(origin), diags)),
    }
    for x in exposes.values().filter(on).filter(|x| x.name.value != main.name) {
        let name = PlanName { name: x.name.value.clone(), span: Some(x.name.span) };
        out.extend(service(Some(x), name, true, ports, x.name.span, diags));
    }
    let mut node_ports: BTreeMap<u16, Span> = BTreeMap::new();
    for p in out.iter().flat_map(|s| &s.ports) {
        let Some(n) = p.node_port else { continue };
        if let Some(first) = node_ports.insert(n, p.span) {
            diags.push(
                Diagnostic::error(Code::DuplicatePort, format!("node port {n} is used twice"))
                    .at(p.span, "used again here")
                    .also(first, "first used here")
                    .help("a node port is taken on every node: give each its own number, or leave `node-port=` out"),
            );
        }
    }
    out
}

/// One Service from its `expose` (`None`: the main Service, one port per
/// `port`).
fn service(
    x: Option<&Expose>,
    name: PlanName,
    extra: bool,
    ports: &Ports<'_>,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<PlanService> {
    let type_ = x.and_then(|x| x.type_.as_ref());
    let type_name = type_.map_or("ClusterIP", |t| t.value.as_str());
    let cluster_ip = type_name == "ClusterIP";
    let headless = x.and_then(|x| x.headless.as_ref());
    if let (Some(h), false) = (headless, cluster_ip)
        && h.value
    {
        diags.push(
            type_mismatch(h.span, format!("a {type_name} Service cannot be headless"), "a headless Service has no cluster IP, which a node port and a load balancer forward to: leave `type=` out")
                .also(type_.map_or(h.span, |t| t.span), "the type"),
        );
    }
    let etp = x.and_then(|x| x.external_traffic_policy.as_ref());
    if let (Some(e), true) = (etp, cluster_ip) {
        diags.push(type_mismatch(
            e.span,
            "`external-traffic-policy` is only for a NodePort or LoadBalancer Service".into(),
            "add `type=\"LoadBalancer\"` or `type=\"NodePort\"`, or remove it",
        ));
    }
    let list = match x.and_then(|x| x.ports.as_ref()) {
        None => ports
            .list
            .iter()
            .map(|p| PlanServicePort {
                name: p.name.clone(),
                port: p.service_port,
                target: p.name.clone(),
                target_number: None,
                protocol: p.protocol.clone(),
                node_port: None,
                span: p.span,
            })
            .collect(),
        Some(list) => expose_ports(&list.value, cluster_ip, ports, diags),
    };
    let headless = headless.is_some_and(|h| h.value);
    if list.is_empty() && !headless {
        diags.push(
            Diagnostic::error(Code::ServiceType, format!("Service `{}` has no port", name.name))
                .at(span, "forwards nothing")
                .help("declare a container port (`port http 8080`), give the Service one (`port http 80 target=http`), or make it `headless=#true`"),
        );
        return None;
    }
    Some(PlanService {
        name,
        extra,
        type_: type_name.to_string(),
        headless,
        external_traffic_policy: etp.map(|e| e.value.clone()),
        ports: list,
        span,
    })
}

/// The ports of an `expose { port … }` list, each to a declared container port.
fn expose_ports(
    list: &[ExposePort],
    cluster_ip: bool,
    ports: &Ports<'_>,
    diags: &mut Diagnostics,
) -> Vec<PlanServicePort> {
    let mut out: Vec<PlanServicePort> = Vec::new();
    for ep in list {
        let target = ep.target.clone().unwrap_or_else(|| ep.name.clone());
        ports.find(&target, &format!("Service port `{}`", ep.name.value), diags);
        let Some(container) = ports.port(&target.value) else { continue };
        if let (Some(n), true) = (&ep.node_port, cluster_ip) {
            diags.push(type_mismatch(
                n.span,
                "`node-port=` is only for a NodePort or LoadBalancer Service".into(),
                "add `type=\"NodePort\"` to the `expose`, or remove `node-port=`",
            ));
        }
        if let Some(first) = out.iter().find(|p| p.port == ep.number.value && p.protocol == container.protocol) {
            diags.push(
                Diagnostic::error(Code::DuplicatePort, format!("service port {} is used twice", ep.number.value))
                    .at(ep.number.span, "used again here")
                    .also(first.span, "first used here")
                    .help("each port of a Service needs its own number"),
            );
            continue;
        }
        out.push(PlanServicePort {
            name: ep.name.value.clone(),
            port: ep.number.value,
            target: container.name.clone(),
            target_number: target.value.parse::<u16>().ok(),
            protocol: container.protocol.clone(),
            node_port: ep.node_port.as_ref().map(|n| n.value),
            span: ep.number.span,
        });
    }
    out
}

/// The ServiceMonitor scrapes the main Service's port that forwards to the
/// metrics container port, by that Service port's name (SVC0362 when the
/// main Service's own `expose` leaves it out).
pub(super) fn scrape_port(m: &mut PlanMonitoring, services: &[PlanService], diags: &mut Diagnostics) {
    let Some(scrape) = m.scrape.as_mut() else { return };
    let main = services.first().filter(|s| !s.extra);
    let mut endpoints = std::mem::take(&mut scrape.endpoints);
    for e in std::iter::once(&mut *scrape).chain(&mut endpoints) {
        match main.and_then(|s| s.ports.iter().find(|p| p.target == e.port)) {
            Some(p) => e.port = p.name.clone(),
            None => {
                let mut d = Diagnostic::error(
                    Code::ScrapePortNotServed,
                    format!("the metrics port `{}` is not a port of the main Service", e.port),
                )
                .at(e.at, "scraped through the main Service")
                .help(format!(
                    "the ServiceMonitor reaches the pods through the main Service: add `port {0} NUMBER target={0}` to its `expose`",
                    e.port
                ));
                if let Some(s) = main {
                    d = d.also(s.span, "the main Service's ports");
                }
                diags.push(d);
            }
        }
    }
    scrape.endpoints = endpoints;
}

/// SVC0361: an `expose` named like the preview or canary Service.
pub(super) fn unique_names(
    services: &[PlanService],
    delivery: Option<&PlanDelivery>,
    names: &PlanNames,
    diags: &mut Diagnostics,
) {
    let Some(second) = delivery.and_then(|d| d.second_service.as_deref()) else { return };
    let main = &names.service;
    let taken =
        [&names.preview_service, names.canary_service.as_ref().unwrap_or(main)].into_iter().find(|n| n.name == second);
    if second == main.name {
        let at = taken.and_then(|n| n.span).or(main.span);
        if let Some(at) = at {
            diags.push(
                Diagnostic::error(Code::ServiceNameTaken, format!("two Services are named `{second}`"))
                    .at(at, "the second Service's name")
                    .help("the main Service and the update's second Service need their own names"),
            );
        }
        return;
    }
    for s in services.iter().filter(|s| s.extra && s.name.name == second) {
        let mut d = Diagnostic::error(Code::ServiceNameTaken, format!("two Services are named `{second}`"))
            .at(s.span, "this `expose`")
            .help("give the `expose` another name, or rename the update's Service in `names`");
        if let Some(at) = taken.and_then(|n| n.span) {
            d = d.also(at, "the update's Service");
        }
        diags.push(d);
    }
}
