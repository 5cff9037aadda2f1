//! `network`: the NetworkPolicy read back into calls, callers, address
//! ranges and where DNS, Prometheus and the ingress controller run. A rule
//! of another shape leaves the block short of it, and a patch writes it.

use serde_json::{Map, Value};

use super::{Cx, kdl, map_block, s};

/// svcc's defaults for the cluster's peers (`check::network::defaults`).
const DNS: (&str, &[(&str, &str)]) = ("kube-system", &[("k8s-app", "kube-dns")]);
const PROMETHEUS: (&str, &[(&str, &str)]) = ("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
const CONTROLLER: (&str, &[(&str, &str)]) = ("ingress-nginx", &[("app.kubernetes.io/name", "ingress-nginx")]);
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A peer: its namespace (`None`: the policy's own) and pod labels.
struct Peer<'a> {
    namespace: Option<&'a str>,
    pods: &'a Map<String, Value>,
}

fn peer(v: &Value) -> Option<Peer<'_>> {
    let m = v.as_object()?;
    if m.keys().any(|k| k != "podSelector" && k != "namespaceSelector") {
        return None;
    }
    let pods = v.pointer("/podSelector/matchLabels")?.as_object()?;
    if v.get("podSelector")?.as_object()?.len() != 1 {
        return None;
    }
    let namespace = match v.get("namespaceSelector") {
        None => None,
        Some(ns) => {
            let labels = ns.get("matchLabels")?.as_object()?;
            if ns.as_object()?.len() != 1 || labels.len() != 1 {
                return None;
            }
            Some(labels.get(NAMESPACE_NAME)?.as_str()?)
        }
    };
    Some(Peer { namespace, pods })
}

/// The only peer of a rule (`from` or `to`).
fn only(rule: &Value, field: &str) -> Option<Value> {
    match rule.get(field)?.as_array()?.as_slice() {
        [p] => Some(p.clone()),
        _ => None,
    }
}

/// Another svcc service's pods: its name.
fn service(p: &Peer) -> Option<String> {
    let name = p.pods.get("app.kubernetes.io/name")?.as_str()?;
    (p.pods.len() == 2 && p.pods.get("app.kubernetes.io/managed-by")?.as_str()? == "svcc").then(|| name.to_string())
}

/// A rule's ports as (number, protocol).
fn ports(rule: &Value) -> Option<Vec<(u64, String)>> {
    let list = rule.get("ports")?.as_array()?;
    list.iter()
        .map(|p| {
            Some((p.get("port")?.as_u64()?, p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string()))
        })
        .collect()
}

/// Ports of the pod's containers as (name, number, protocol): the
/// service's own (`main`), or every container's.
fn declared(cx: &Cx, main: bool) -> Vec<(String, u64, String)> {
    let containers = cx.at("/spec/template/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for c in containers.iter().take(if main { 1 } else { usize::MAX }) {
        for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            let name = p.get("name").and_then(Value::as_str);
            let (Some(name), Some(n)) = (name, p.get("containerPort").and_then(Value::as_u64)) else { continue };
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            out.push((name.to_string(), n, protocol.to_string()));
        }
    }
    out
}

/// ` port=NAME` for one port, nothing for every port of the service; `None`
/// when the ports are neither.
fn port_prop(cx: &Cx, admitted: &[(u64, String)]) -> Option<String> {
    let main: Vec<(u64, String)> = declared(cx, true).into_iter().map(|(_, n, p)| (n, p)).collect();
    if admitted == main.as_slice() {
        return Some(String::new());
    }
    let [(n, pr)] = admitted else { return None };
    let all = declared(cx, false);
    let (name, _, _) = all.iter().find(|(_, num, p)| num == n && p == pr)?;
    Some(format!(" port={}", s(name)))
}

/// `dns namespace="…" { … }` and the like, unless it is svcc's default.
fn cluster_peer(node: &str, p: &Peer, own: Option<&str>, default: (&str, &[(&str, &str)])) -> Option<String> {
    let ns = p.namespace.or(own)?;
    let is_default = ns == default.0
        && p.pods.len() == default.1.len()
        && default.1.iter().all(|(k, v)| p.pods.get(*k).and_then(Value::as_str) == Some(v));
    if is_default {
        return Some(String::new());
    }
    Some(format!("{node} namespace={} {}", s(ns), map_block(p.pods)?))
}

pub fn map(cx: &mut Cx) {
    let Some((i, np)) = cx.first("NetworkPolicy") else { return };
    let own = np.pointer("/metadata/namespace").and_then(Value::as_str);
    let mut lines = Vec::new();
    let egress = np.pointer("/spec/egress").and_then(Value::as_array).cloned().unwrap_or_default();
    for (k, rule) in egress.iter().enumerate() {
        let line = if k == 0 { dns(rule, own) } else { egress_line(rule) };
        let Some(line) = line else { break };
        lines.push(line);
    }
    let ingress = np.pointer("/spec/ingress").and_then(Value::as_array).cloned().unwrap_or_default();
    let scraped = cx.first("ServiceMonitor").is_some();
    let routed = ["HTTPRoute", "GRPCRoute", "Ingress"].iter().any(|k| cx.first(k).is_some());
    let mut prometheus_done = !scraped;
    for (k, rule) in ingress.iter().enumerate() {
        let last = k + 1 == ingress.len();
        let Some(line) = ingress_rule(cx, rule, own, &mut prometheus_done, routed, last) else { break };
        lines.push(line);
    }
    let body: Vec<String> = lines.into_iter().filter(|l| !l.is_empty()).collect();
    let text =
        if body.is_empty() { "network {}".to_string() } else { format!("network {{\n    {}\n}}", body.join("\n    ")) };
    cx.node("network", text);
    cx.claim(i, "/spec", "network");
}

/// The cluster DNS, the first egress rule (port 53 over UDP and TCP).
fn dns(rule: &Value, own: Option<&str>) -> Option<String> {
    let to = only(rule, "to")?;
    cluster_peer("dns", &peer(&to)?, own, DNS)
}

/// One egress rule after the DNS one: `calls` (another svcc service's
/// pods, by port name), or `egress` (an address range, or pods by label).
pub fn egress_line(rule: &Value) -> Option<String> {
    let to = only(rule, "to")?;
    let [port] = rule.get("ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) else {
        return (rule.get("ports").is_none()).then(|| endpoint(&to, String::new())).flatten();
    };
    let protocol = match port.get("protocol").and_then(Value::as_str) {
        Some("TCP") | None => String::new(),
        Some(pr) => format!(" protocol={}", s(pr)),
    };
    if let Some(p) = peer(&to)
        && let (Some(callee), Some(name)) = (service(&p), port.get("port").and_then(Value::as_str))
    {
        let ns = p.namespace.map(|n| format!(" namespace={}", s(n))).unwrap_or_default();
        return Some(format!("calls {} port={}{ns}{protocol}", kdl::name(&callee), s(name)));
    }
    let number = match port.get("port")? {
        Value::Number(n) => n.to_string(),
        Value::String(name) => s(name),
        _ => return None,
    };
    endpoint(&to, format!(" port={number}{protocol}"))
}

/// `egress "CIDR"…` or `egress namespace=… { labels }` with `props`.
fn endpoint(to: &Value, props: String) -> Option<String> {
    if let Some(cidr) = to.pointer("/ipBlock/cidr").and_then(Value::as_str) {
        return (to.as_object()?.len() == 1).then(|| format!("egress {}{props}", s(cidr)));
    }
    let p = peer(to)?;
    let ns = p.namespace.map(|n| format!(" namespace={}", s(n))).unwrap_or_default();
    Some(format!("egress{ns}{props} {}", map_block(p.pods)?))
}

fn ingress_rule(
    cx: &Cx,
    rule: &Value,
    own: Option<&str>,
    prometheus_done: &mut bool,
    routed: bool,
    last: bool,
) -> Option<String> {
    let from = only(rule, "from")?;
    let admitted = ports(rule)?;
    if let Some(cidr) = from.pointer("/ipBlock/cidr").and_then(Value::as_str) {
        return Some(format!("ingress {}{}", s(cidr), port_prop(cx, &admitted)?));
    }
    let p = peer(&from)?;
    if let Some(caller) = service(&p) {
        let mut line = format!("called-by {}{}", kdl::name(&caller), port_prop(cx, &admitted)?);
        if let Some(ns) = p.namespace {
            line.push_str(&format!(" namespace={}", s(ns)));
        }
        return Some(line);
    }
    if !*prometheus_done {
        *prometheus_done = true;
        return cluster_peer("prometheus", &p, own, PROMETHEUS);
    }
    // Pods by label. The last rule is the ingress controller's when a route
    // admits it or it is the default controller; a guess beyond that would
    // name any pods the controller (the policy is the same either way).
    let default_controller = cluster_peer("ingress-controller", &p, own, CONTROLLER).is_some_and(|l| l.is_empty());
    if !last || !(routed || default_controller) {
        let ns = p.namespace.map(|n| format!(" namespace={}", s(n))).unwrap_or_default();
        return Some(format!("ingress{ns}{} {}", port_prop(cx, &admitted)?, map_block(p.pods)?));
    }
    // The ingress controller: the route's port is admitted by the route itself.
    let peer_line = cluster_peer("ingress-controller", &p, own, CONTROLLER)?;
    let port = match admitted.as_slice() {
        _ if routed => String::new(),
        [(n, pr)] => {
            let all = declared(cx, false);
            let (name, _, _) = all.iter().find(|(_, num, p)| num == n && p == pr)?;
            format!(" port={}", s(name))
        }
        _ => return None,
    };
    Some(match (peer_line.is_empty(), port.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("ingress-controller{port}"),
        (false, _) => peer_line.replacen(" {", &format!("{port} {{"), 1),
    })
}
