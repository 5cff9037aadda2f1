//! The service graph of a build: every service's ports and declared calls,
//! per environment. A build of many services checks that what A calls, B
//! serves and admits ([`check`], SVC0701-SVC0710); `svcc graph` draws it
//! ([`render`]).
//!
//! Each service still compiles alone (its NetworkPolicy is the same in a
//! folder build and a build of its one file); the graph only adds
//! diagnostics, after every service has compiled.

mod render;

pub use render::{Format, render};

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::Compiled;
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::plan::{Plan, PlanAutoscale, PlanCall, PlanNetwork, PlanPort, PlanRoute};
use crate::source::Span;

/// One service as the graph sees it.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub envs: Vec<Env>,
}

/// A service in one environment.
#[derive(Clone, Debug)]
pub struct Env {
    pub name: String,
    pub namespace: Option<String>,
    pub ports: Vec<PlanPort>,
    /// The container ports its Services reach (by name); every port when
    /// one is headless (its DNS name resolves to the pods).
    pub served: Vec<String>,
    pub network: Option<PlanNetwork>,
    /// Its exposure (`route`), when it has one.
    pub route: Option<PlanRoute>,
    /// Its autoscaler, when it has one (`svcc adapter-rules` reads the
    /// Pods metrics its HPA asks for).
    pub autoscale: Option<PlanAutoscale>,
}

impl Service {
    /// The graph's view of a service's plans.
    pub fn of(name: &str, plans: &[Plan]) -> Service {
        let envs = plans
            .iter()
            .map(|p| Env {
                name: p.environment.clone(),
                namespace: p.namespace.clone(),
                ports: p.container.ports.clone(),
                served: if p.services.iter().any(|s| s.headless) {
                    p.container.ports.iter().map(|p| p.name.clone()).collect()
                } else {
                    p.services.iter().flat_map(|s| s.ports.iter().map(|sp| sp.target.clone())).collect()
                },
                network: p.network.clone(),
                route: p.route.clone(),
                autoscale: p.autoscale.clone(),
            })
            .collect();
        Service { name: name.to_string(), envs }
    }

    /// Whether it declares a call or a caller (its diagnostics may come
    /// from the graph check, after the service compiled).
    pub fn declares_edges(&self) -> bool {
        self.envs.iter().filter_map(|e| e.network.as_ref()).any(|n| !n.calls.is_empty() || !n.callers.is_empty())
    }

    pub fn env(&self, name: &str) -> Option<&Env> {
        self.envs.iter().find(|e| e.name == name)
    }
}

/// What the graph check found, per result.
struct Found {
    by_result: BTreeMap<usize, Vec<Diagnostic>>,
}

impl Found {
    fn push(&mut self, i: usize, d: Diagnostic) {
        self.by_result.entry(i).or_default().push(d);
    }
}

/// Check the calls between the services of `results` and add what is
/// wrong to the result it belongs to (a result with a new error loses its
/// artifacts). `whole`: the build is a folder, so a call to a service not
/// among the results is an error.
pub fn check(results: &mut [Compiled], whole: bool, deny_warnings: bool) {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        if let Some((name, _)) = &r.service {
            index.entry(name.as_str()).or_insert(i);
        }
    }
    let names: Vec<&str> = index.keys().copied().collect();
    let mut found = Found { by_result: BTreeMap::new() };
    let cx = Cx { results, index: &index, names: &names, whole };
    for (i, r) in results.iter().enumerate() {
        let Some(g) = &r.graph else { continue };
        for env in &g.envs {
            let Some(net) = &env.network else { continue };
            for call in &net.calls {
                if let Some(d) = cx.call(g, env, call) {
                    found.push(i, d);
                }
            }
            for d in cx.callers(g, env, net) {
                found.push(i, d);
            }
        }
    }
    for (i, d) in cycles(&cx) {
        found.push(i, d);
    }
    for (i, new) in found.by_result {
        let r = &mut results[i];
        let mut diags = Diagnostics::new();
        diags.extend(std::mem::take(&mut r.diagnostics));
        diags.extend(new);
        if deny_warnings {
            diags.deny_warnings();
        }
        r.diagnostics = diags.into_sorted();
        if r.has_errors() {
            r.artifacts.clear();
        }
    }
}

struct Cx<'a> {
    results: &'a [Compiled],
    index: &'a BTreeMap<&'a str, usize>,
    names: &'a [&'a str],
    whole: bool,
}

impl Cx<'_> {
    /// The graph of the service `name`, when it compiled (`Err(true)`: it is
    /// in the build but has errors of its own, so nothing is checked
    /// against it; `Err(false)`: it is not in the build).
    fn service(&self, name: &str) -> Result<(usize, &Service), bool> {
        let i = *self.index.get(name).ok_or(false)?;
        self.results[i].graph.as_ref().map(|g| (i, g)).ok_or(true)
    }

    fn unknown(&self, code: Code, name: &str, at: Span, what: &str, error: bool) -> Option<Diagnostic> {
        if !self.whole {
            return None;
        }
        let msg = format!("{what} `{name}`, which no spec of the build defines");
        let d = if error { Diagnostic::error(code, msg) } else { Diagnostic::warning(code, msg) };
        let mut d = d.at(at, "not a service of this build");
        d = match did_you_mean(name, self.names) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("services of the build: {}", self.names.join(", "))),
        };
        Some(d)
    }

    /// What is wrong with one call of `from` in `env`.
    fn call(&self, from: &Service, env: &Env, call: &PlanCall) -> Option<Diagnostic> {
        let to = match self.service(&call.service) {
            Ok((_, g)) => g,
            Err(true) => return None,
            Err(false) => {
                return self.unknown(Code::UnknownCallee, &call.service, call.service_span, "calls", true);
            }
        };
        let Some(target) = to.env(&env.name) else {
            let envs: Vec<&str> = to.envs.iter().map(|e| e.name.as_str()).collect();
            return Some(
                Diagnostic::error(
                    Code::CalleeEnvironment,
                    format!("environment `{}` calls `{}`, which has no environment `{}`", env.name, to.name, env.name),
                )
                .at(call.service_span, format!("`{}` builds: {}", to.name, envs.join(", ")))
                .help(format!(
                    "calls stay within their environment: give `{}` an `environment {}`, or declare the call only in the environments that have it",
                    to.name, env.name
                )),
            );
        };
        if target.namespace != call.namespace {
            return Some(namespace_mismatch(call, &to.name, target, &env.name));
        }
        let Some(port) = target.ports.iter().find(|p| p.name == call.port) else {
            if target.ports.is_empty() {
                return Some(
                    Diagnostic::error(Code::CalledWithoutPorts, format!("`{}` serves no port", to.name))
                        .at(call.span, "called here")
                        .help(format!(
                            "declare the port in `{}` (`port grpc 9090`), or remove the call: a service without ports has no Service to call",
                            to.name
                        )),
                );
            }
            let ports: Vec<&str> = target.ports.iter().map(|p| p.name.as_str()).collect();
            let d = Diagnostic::error(
                Code::UnknownCalleePort,
                format!("`{}` has no port `{}` in environment `{}`", to.name, call.port, env.name),
            )
            .at(call.port_span, format!("ports of `{}`: {}", to.name, ports.join(", ")));
            return Some(match did_you_mean(&call.port, &ports) {
                Some(s) => d.help(format!("did you mean `port={s}`?")),
                None => d.help(format!("name one of the ports `{}` declares", to.name)),
            });
        };
        if port.protocol != call.protocol {
            return Some(
                Diagnostic::error(
                    Code::ProtocolMismatch,
                    format!(
                        "the call uses {}, and port `{}` of `{}` serves {}",
                        call.protocol, port.name, to.name, port.protocol
                    ),
                )
                .at(call.span, format!("calls over {}", call.protocol))
                .help(format!("write `protocol=\"{}\"`, the port's protocol", port.protocol)),
            );
        }
        if !target.served.contains(&port.name) {
            return Some(
                Diagnostic::error(
                    Code::CalleePortNotServed,
                    format!("no Service of `{}` serves its port `{}` in environment `{}`", to.name, port.name, env.name),
                )
                .at(call.port_span, "the pods have it, no Service forwards to it")
                .help(format!(
                    "add port `{}` to `{}`'s Service (its `expose` lists the ports the Service serves), or call a port it serves",
                    port.name, to.name
                )),
            );
        }
        admitted(from, env, call, &to.name, target)
    }

    /// What is wrong with the `called-by` lines of `to` in `env`.
    fn callers(&self, to: &Service, env: &Env, net: &PlanNetwork) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for c in &net.callers {
            let from = match self.service(&c.service) {
                Ok((_, g)) => g,
                Err(true) => continue,
                Err(false) => {
                    out.extend(self.unknown(
                        Code::UnknownCaller,
                        &c.service,
                        c.service_span,
                        "admits calls from",
                        false,
                    ));
                    continue;
                }
            };
            let Some(source) = from.env(&env.name) else { continue };
            let calls = source.network.as_ref().map_or(&[][..], |n| &n.calls[..]);
            let used =
                calls.iter().any(|call| call.service == to.name && c.port.as_ref().is_none_or(|p| *p == call.port));
            if !used {
                let port = c.port.as_ref().map_or(String::new(), |p| format!(" port={p}"));
                out.push(
                    Diagnostic::warning(
                        Code::UnusedAdmission,
                        format!(
                            "`{}` is admitted, but does not call `{}`{port} in environment `{}`",
                            c.service, to.name, env.name
                        ),
                    )
                    .at(c.span, "admitted here")
                    .help(format!(
                        "remove the line, or declare the call in `{}`: `calls {}{port}`",
                        c.service, to.name
                    )),
                );
            }
        }
        out
    }
}

/// SVC0706: the callee runs in another namespace than the call says.
fn namespace_mismatch(call: &PlanCall, callee: &str, target: &Env, env: &str) -> Diagnostic {
    let runs = target.namespace.as_deref().map_or("no namespace".to_string(), |n| format!("namespace `{n}`"));
    let expects = call.namespace.as_deref().map_or("no namespace".to_string(), |n| format!("namespace `{n}`"));
    let d = Diagnostic::error(
        Code::CalleeNamespace,
        format!("`{callee}` runs in {runs} in environment `{env}`, and the call expects it in {expects}"),
    );
    let d = match call.namespace_span {
        Some(s) => d.at(s, "the callee's namespace, as written"),
        None => d.at(call.service_span, "expected in the caller's own namespace"),
    };
    match &target.namespace {
        Some(n) => d.help(format!("write `namespace=\"{n}\"` on the call")),
        None => d.help(format!("give `{callee}` a namespace, or build both services with environments")),
    }
}

/// SVC0707: the callee's NetworkPolicy does not admit the call; SVC0706 at
/// the callee's `called-by` when it expects the caller elsewhere is
/// reported from here too (as the call's problem: the call is what fails).
fn admitted(from: &Service, env: &Env, call: &PlanCall, callee: &str, target: &Env) -> Option<Diagnostic> {
    let net = target.network.as_ref().filter(|n| n.policy)?;
    let matching: Vec<_> = net
        .callers
        .iter()
        .filter(|c| c.service == from.name && c.port.as_ref().is_none_or(|p| *p == call.port))
        .collect();
    if matching.iter().any(|c| c.namespace == env.namespace) {
        return None;
    }
    if let Some(c) = matching.first() {
        let at = c.namespace.as_deref().unwrap_or("its own namespace");
        return Some(
            Diagnostic::error(
                Code::CalleeNamespace,
                format!("`{callee}` admits `{}` from `{at}`, and `{}` runs elsewhere", from.name, from.name),
            )
            .at(call.service_span, "called from here")
            .help(format!(
                "`{callee}`'s `called-by {}` needs `namespace=\"{}\"`",
                from.name,
                env.namespace.as_deref().unwrap_or("…")
            )),
        );
    }
    Some(
        Diagnostic::error(
            Code::CallNotAdmitted,
            format!("`{callee}`'s NetworkPolicy does not admit calls from `{}` on port `{}`", from.name, call.port),
        )
        .at(call.span, "the call would be dropped")
        .help(format!(
            "add `called-by {} port={}` to `{callee}`'s `network` block (its owners decide who reaches it)",
            from.name, call.port
        )),
    )
}

/// SVC0710: one warning per cycle of calls (whatever the environment), at
/// the call that closes it.
fn cycles(cx: &Cx<'_>) -> Vec<(usize, Diagnostic)> {
    // Per environment: caller → (callee, the call).
    let mut edges: BTreeMap<&str, Calls<'_>> = BTreeMap::new();
    for r in cx.results {
        let Some(g) = &r.graph else { continue };
        for env in &g.envs {
            for call in env.network.iter().flat_map(|n| &n.calls) {
                if call.service != g.name && cx.service(&call.service).is_ok() {
                    edges.entry(&env.name).or_default().entry(&g.name).or_default().push((&call.service, call));
                }
            }
        }
    }
    let mut seen: BTreeSet<Vec<&str>> = BTreeSet::new();
    let mut out = Vec::new();
    for graph in edges.values() {
        for &start in graph.keys() {
            let Some(path) = shortest_cycle(graph, start) else { continue };
            let mut members: Vec<&str> = path.iter().map(|(from, _)| *from).collect();
            members.sort_unstable();
            // Reported from its smallest member, once.
            if members[0] != start || !seen.insert(members) {
                continue;
            }
            let (last, closing) = path[path.len() - 1];
            let Ok((i, _)) = cx.service(last) else { continue };
            let mut names: Vec<&str> = path.iter().map(|(from, _)| *from).collect();
            names.push(start);
            out.push((
                i,
                Diagnostic::warning(
                    Code::CallCycle,
                    format!("services call each other in a cycle: {}", names.join(" → ")),
                )
                .at(closing.span, "this call closes the cycle")
                .help(
                    "break it: publish an event instead of calling back, or move what both need into a third service",
                ),
            ));
        }
    }
    out
}

/// One environment's calls: caller → (callee, the call).
type Calls<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a PlanCall)>>;

/// The shortest cycle through `start`: each step's caller and its call.
fn shortest_cycle<'a>(graph: &Calls<'a>, start: &'a str) -> Option<Vec<(&'a str, &'a PlanCall)>> {
    let mut prev: BTreeMap<&str, (&str, &PlanCall)> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(next, call) in graph.get(node).into_iter().flatten() {
            if next == start {
                let mut path = vec![(node, call)];
                let mut at = node;
                while at != start {
                    let (p, c) = prev[at];
                    path.push((p, c));
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            if next != start && !prev.contains_key(next) {
                prev.insert(next, (node, call));
                queue.push_back(next);
            }
        }
    }
    None
}
