//! `port NAME NUMBER`: the container and Service ports, each number used
//! once, and the lookup every block that names a port goes through.

use std::collections::BTreeMap;

use super::merge::Merger;
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Port};
use crate::plan::PlanPort;
use crate::settings as s;
use crate::source::{Span, Spanned};

/// The resolved ports, and the declared ones (some may lack a number,
/// which is reported once).
pub(super) struct Ports<'b> {
    pub list: Vec<PlanPort>,
    declared: &'b Map<Port>,
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
    Ports { list, declared }
}

impl Ports<'_> {
    /// The first declared port, even one without a number (the default
    /// port of probes).
    pub fn first_declared(&self) -> Option<&Port> {
        self.declared.values().next()
    }

    /// Whether the spec declares no port at all.
    pub fn none_declared(&self) -> bool {
        self.declared.is_empty()
    }

    /// The number of the port `name`, which `what` uses (SVC0302 when it is
    /// not declared; `None` without a report when it is declared without a
    /// number, which is reported already).
    pub fn find(&self, name: &Spanned<String>, what: &str, diags: &mut Diagnostics) -> Option<u16> {
        if let Some(p) = self.list.iter().find(|p| p.name == name.value) {
            return Some(p.number);
        }
        if self.declared.contains_key(&name.value) {
            return None;
        }
        let names: Vec<&str> = self.declared.keys().map(String::as_str).collect();
        let mut d =
            Diagnostic::error(Code::UnknownPort, format!("{what} uses port `{}`, which is not declared", name.value))
                .at(name.span, "no port has this name");
        d = match did_you_mean(&name.value, &names) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if names.is_empty() => d.help(format!("declare it: `port {} 8080`", name.value)),
            None => d.help(format!("declared ports: {}", names.join(", "))),
        };
        diags.push(d);
        None
    }
}
