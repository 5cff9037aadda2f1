//! `svcc graph`: the services of a build as Graphviz DOT or Mermaid, one
//! cluster per environment, with each route's Gateway or Ingress class and
//! the hosts it exposes. Every name in the text is a service, port,
//! namespace or environment name (DNS labels), a CIDR, a host name or a
//! pod label, so nothing needs quoting beyond the label strings' own
//! quotes; they are escaped anyway.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{Env, Service};
use crate::plan::{PlanEntry, PlanRoute};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
}

/// One environment's nodes and edges, as both formats draw them.
struct Picture<'a> {
    env: &'a str,
    nodes: Vec<Box>,
    edges: Vec<(String, String, String, bool)>,
}

/// A node: id, label lines, kind.
struct Box {
    id: String,
    lines: Vec<String>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Service,
    /// Called, but not a service of the build.
    Missing,
    /// The ingress controller, or an address outside the cluster.
    Outside,
}

/// A node id: `s_` for a service, `x_` for anything else, then the
/// environment and the name with every other character as `_` (service and
/// environment names hold no `_`, so two of them never collide).
fn id(env: &str, name: &str) -> String {
    node_id("s", env, name)
}

fn node_id(prefix: &str, env: &str, name: &str) -> String {
    let safe = |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
    format!("{prefix}_{}__{}", safe(env), safe(name))
}

fn label(env: &Env, s: &Service) -> Vec<String> {
    let mut lines = vec![s.name.clone()];
    if let Some(ns) = env.namespace.as_deref().filter(|ns| *ns != env.name) {
        lines.push(format!("namespace {ns}"));
    }
    if !env.ports.is_empty() {
        lines.push(env.ports.iter().map(|p| format!("{} {}", p.name, p.number)).collect::<Vec<_>>().join(", "));
    }
    match &env.network {
        Some(n) if !n.policy => lines.push("no NetworkPolicy".to_string()),
        Some(_) => {}
        None => lines.push("no network block".to_string()),
    }
    lines
}

/// The pictures of the environments (`only`: just those), in the order the
/// services first build them.
fn pictures<'a>(services: &'a [Service], only: &[String]) -> Vec<Picture<'a>> {
    let mut envs: Vec<&str> = Vec::new();
    for s in services {
        for e in &s.envs {
            if !envs.contains(&e.name.as_str()) && (only.is_empty() || only.contains(&e.name)) {
                envs.push(&e.name);
            }
        }
    }
    envs.into_iter().map(|env| picture(services, env)).collect()
}

fn picture<'a>(services: &'a [Service], env: &'a str) -> Picture<'a> {
    let mut pic = Picture { env, nodes: Vec::new(), edges: Vec::new() };
    let built: BTreeSet<&str> = services.iter().filter(|s| s.env(env).is_some()).map(|s| s.name.as_str()).collect();
    let mut extra: BTreeSet<(String, Kind, String)> = BTreeSet::new();
    for s in services {
        let Some(e) = s.env(env) else { continue };
        pic.nodes.push(Box { id: id(env, &s.name), lines: label(e, s), kind: Kind::Service });
        if let Some(r) = &e.route {
            let (key, text) = entry(r);
            extra.insert((node_id("x", env, &key), Kind::Outside, text));
            pic.edges.push((node_id("x", env, &key), id(env, &s.name), exposure(r), true));
        }
        let Some(net) = &e.network else { continue };
        for c in &net.calls {
            if !built.contains(c.service.as_str()) {
                extra.insert((id(env, &c.service), Kind::Missing, format!("{} (not in the build)", c.service)));
            }
            pic.edges.push((id(env, &s.name), id(env, &c.service), c.port.clone(), false));
        }
        // The ports the ingress controller reaches besides the route's (an
        // Ingress written by hand: `ingress-controller port=`).
        let routed = e.route.as_ref().map(|r| r.port_number);
        let exposed: Vec<u16> = net.exposed.iter().map(|(n, _)| *n).filter(|n| Some(*n) != routed).collect();
        if !exposed.is_empty() {
            extra.insert((node_id("x", env, "ingress"), Kind::Outside, "ingress controller".to_string()));
            let name = |n: u16| e.ports.iter().find(|p| p.number == n).map_or(n.to_string(), |p| p.name.clone());
            let ports: Vec<String> = exposed.iter().map(|n| name(*n)).collect();
            pic.edges.push((node_id("x", env, "ingress"), id(env, &s.name), ports.join(", "), true));
        }
        for i in &net.ingress {
            let from = i.from.describe();
            extra.insert((node_id("x", env, &from), Kind::Outside, from.clone()));
            let ports: Vec<String> = i.ports.iter().map(|(n, _)| n.to_string()).collect();
            pic.edges.push((node_id("x", env, &from), id(env, &s.name), ports.join(", "), true));
        }
        for eg in &net.egress {
            let to = match &eg.host {
                Some(h) => format!("{h} ({})", eg.to.describe()),
                None => eg.to.describe(),
            };
            extra.insert((node_id("x", env, &to), Kind::Outside, to.clone()));
            let port = eg.port.as_ref().map_or("any port".to_string(), ToString::to_string);
            pic.edges.push((id(env, &s.name), node_id("x", env, &to), port, true));
        }
    }
    for (id, kind, text) in extra {
        pic.nodes.push(Box { id, lines: vec![text], kind });
    }
    pic
}

/// The entry point a route attaches to: its node key and label.
fn entry(r: &PlanRoute) -> (String, String) {
    match &r.entry {
        PlanEntry::Gateway { name, namespace, .. } => {
            let ns = namespace.as_deref().map_or(String::new(), |n| format!("{n}/"));
            (format!("gateway {ns}{name}"), format!("Gateway {ns}{name}"))
        }
        PlanEntry::Ingress { class } => (format!("ingress class {class}"), format!("Ingress class {class}")),
    }
}

/// What an exposure edge says: the hosts (and paths other than `/`), TLS,
/// and the port the route reaches.
fn exposure(r: &PlanRoute) -> String {
    let mut hosts = r.hosts.join(", ");
    let paths: Vec<&str> = r.paths.iter().map(|(p, _)| p.as_str()).filter(|p| *p != "/").collect();
    if !paths.is_empty() {
        hosts = format!("{hosts} {}", paths.join(", "));
    }
    let tls = if r.tls.is_some() { " (TLS)" } else { "" };
    format!("{hosts}{tls} → {}", r.port)
}

/// Label text for DOT, without its quotes: `"` and `\` escaped, control
/// characters dropped.
fn dot_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// A label string for Mermaid: `"` as its entity, control characters dropped.
fn quoted(s: &str) -> String {
    let text: String = s.chars().filter(|c| !c.is_control()).collect();
    format!("\"{}\"", text.replace('"', "#quot;"))
}

/// The graph of `services` (their environments in `only`, or all).
pub fn render(services: &[Service], only: &[String], format: Format) -> String {
    let pics = pictures(services, only);
    match format {
        Format::Dot => dot(&pics),
        Format::Mermaid => mermaid(&pics),
    }
}

fn dot(pics: &[Picture<'_>]) -> String {
    let mut s = String::from("digraph services {\n  rankdir=LR;\n  fontname=\"Helvetica\";\n");
    s.push_str(
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\", fontsize=11];\n",
    );
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for p in pics {
        let _ = writeln!(
            s,
            "  subgraph {} {{\n    label=\"{}\";\n    style=\"rounded\";",
            quoted_id(&format!("cluster_{}", p.env)),
            dot_text(p.env)
        );
        for n in &p.nodes {
            let style = match n.kind {
                Kind::Service => "",
                Kind::Missing => ", style=\"rounded,dashed\", fillcolor=\"#ffffff\"",
                Kind::Outside => ", shape=ellipse, style=\"dashed\", fillcolor=\"#ffffff\"",
            };
            let text: Vec<String> = n.lines.iter().map(|l| dot_text(l)).collect();
            let _ = writeln!(s, "    {} [label=\"{}\"{style}];", n.id, text.join("\\n"));
        }
        for (from, to, label, dashed) in &p.edges {
            let style = if *dashed { ", style=dashed" } else { "" };
            let _ = writeln!(s, "    {from} -> {to} [label=\"{}\"{style}];", dot_text(label));
        }
        s.push_str("  }\n");
    }
    s.push_str("}\n");
    s
}

fn quoted_id(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

fn mermaid(pics: &[Picture<'_>]) -> String {
    let mut s = String::from("flowchart LR\n");
    for p in pics {
        let _ = writeln!(s, "  subgraph {}[{}]", quoted_id(&format!("env_{}", p.env)), quoted(p.env));
        for n in &p.nodes {
            let text = n.lines.join("<br/>");
            let (open, close) = match n.kind {
                Kind::Service => ("(", ")"),
                Kind::Missing => ("[/", "/]"),
                Kind::Outside => ("([", "])"),
            };
            let _ = writeln!(s, "    {}{open}{}{close}", n.id, quoted(&text));
        }
        for (from, to, label, dashed) in &p.edges {
            let arrow = if *dashed { "-.->" } else { "-->" };
            let _ = writeln!(s, "    {from} {arrow}|{}| {to}", quoted(label));
        }
        s.push_str("  end\n");
    }
    s
}
