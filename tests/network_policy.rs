//! The NetworkPolicies of examples/monorepo and examples/jobs-and-config,
//! evaluated as the Kubernetes NetworkPolicy API defines them (a small
//! evaluator here, not a cluster): every path the specs declare is
//! allowed, DNS and Prometheus's scrape included, and a sample of
//! undeclared paths is denied; a job's pods reach what the service's and
//! the job's `egress` lines name, and nothing reaches them.
//!
//! The semantics implemented (networking.k8s.io/v1 `NetworkPolicySpec`):
//! a pod is isolated for a direction when a policy of its namespace selects
//! it (`podSelector`) with that direction in `policyTypes`; an isolated
//! pod's traffic in that direction is allowed when a rule of any policy
//! selecting it allows it; a connection needs both the source's egress and
//! the destination's ingress. A rule with no peers or no ports matches all
//! of them; a peer is a `podSelector` (in the policy's namespace), a
//! `namespaceSelector` (every pod of the matching namespaces), both (the
//! selected pods of the matching namespaces), or an `ipBlock` (addresses,
//! pods' included, minus `except`); a port is a number (with `endPort`, a
//! range) or a container port name of the destination pod, with a protocol
//! (TCP when absent). Label selectors implement `matchLabels` and the four
//! `matchExpressions` operators.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::Value;
use svcc::lower::Kind;

type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
struct Pod {
    name: String,
    namespace: String,
    labels: Labels,
    /// (name, number, protocol)
    ports: Vec<(String, u16, String)>,
    ip: Ipv4Addr,
}

/// One end of a connection: a pod, or an address outside the cluster.
#[derive(Clone, Copy, Debug)]
enum End<'a> {
    Pod(&'a Pod),
    Outside(Ipv4Addr),
}

impl End<'_> {
    fn ip(&self) -> Ipv4Addr {
        match self {
            End::Pod(p) => p.ip,
            End::Outside(ip) => *ip,
        }
    }
    fn show(&self) -> String {
        match self {
            End::Pod(p) => format!("{}/{}", p.namespace, p.name),
            End::Outside(ip) => ip.to_string(),
        }
    }
}

struct Cluster {
    pods: Vec<Pod>,
    /// (namespace, policy spec)
    policies: Vec<(String, Value)>,
}

fn labels_of(v: &Value) -> Labels {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// `matchLabels` and `matchExpressions`; an empty selector matches all.
fn selector_matches(sel: &Value, labels: &Labels) -> bool {
    let by_labels = labels_of(&sel["matchLabels"]).iter().all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = sel["matchExpressions"].as_array().into_iter().flatten().all(|e| {
        let key = e["key"].as_str().unwrap();
        let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let have = labels.get(key).map(String::as_str);
        match e["operator"].as_str().unwrap() {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            op => panic!("unknown operator {op}"),
        }
    });
    by_labels && by_expressions
}

fn namespace_labels(ns: &str) -> Labels {
    BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])
}

fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> bool {
    let (addr, len) = cidr.split_once('/').unwrap();
    let Ok(addr) = addr.parse::<Ipv4Addr>() else { return false }; // an IPv6 range holds no IPv4 address
    let len: u32 = len.parse().unwrap();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(addr) & mask == u32::from(ip) & mask
}

/// Does `peer` of a policy in `policy_ns` match `end`?
fn peer_matches(peer: &Value, policy_ns: &str, end: End<'_>) -> bool {
    if let Some(block) = peer.get("ipBlock") {
        let ip = end.ip();
        let except = block["except"].as_array().into_iter().flatten().any(|c| cidr_contains(c.as_str().unwrap(), ip));
        return cidr_contains(block["cidr"].as_str().unwrap(), ip) && !except;
    }
    let End::Pod(pod) = end else { return false };
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => selector_matches(sel, &namespace_labels(&pod.namespace)),
        None => pod.namespace == policy_ns,
    };
    let pod_ok = peer.get("podSelector").is_none_or(|sel| selector_matches(sel, &pod.labels));
    ns_ok && pod_ok
}

/// Does the rule's `ports` admit `port`/`protocol` on `dst` (whose named
/// ports a name refers to)?
fn ports_match(ports: Option<&Value>, dst: End<'_>, port: u16, protocol: &str) -> bool {
    let Some(list) = ports.and_then(Value::as_array).filter(|l| !l.is_empty()) else { return true };
    list.iter().any(|p| {
        let proto = p["protocol"].as_str().unwrap_or("TCP");
        if proto != protocol {
            return false;
        }
        match &p["port"] {
            Value::Null => true,
            Value::Number(n) => {
                let start = n.as_u64().unwrap() as u16;
                let end = p["endPort"].as_u64().map_or(start, |e| e as u16);
                (start..=end).contains(&port)
            }
            Value::String(name) => match dst {
                End::Pod(pod) => pod.ports.iter().any(|(n, num, pr)| n == name && *num == port && pr == protocol),
                End::Outside(_) => false,
            },
            other => panic!("port {other}"),
        }
    })
}

impl Cluster {
    /// The policies selecting `pod` for `direction` (`Ingress`, `Egress`).
    fn selecting<'a>(&'a self, pod: &'a Pod, direction: &'a str) -> impl Iterator<Item = &'a (String, Value)> + 'a {
        self.policies.iter().filter(move |(ns, spec)| {
            *ns == pod.namespace
                && selector_matches(&spec["podSelector"], &pod.labels)
                && spec["policyTypes"].as_array().unwrap().iter().any(|t| t == direction)
        })
    }

    fn allowed(&self, src: End<'_>, dst: End<'_>, port: u16, protocol: &str) -> bool {
        let egress = match src {
            End::Outside(_) => true,
            End::Pod(pod) => {
                let mut policies = self.selecting(pod, "Egress").peekable();
                policies.peek().is_none()
                    || policies.any(|(ns, spec)| {
                        spec["egress"].as_array().into_iter().flatten().any(|rule| {
                            let peers = rule["to"].as_array().filter(|l| !l.is_empty());
                            peers.is_none_or(|l| l.iter().any(|p| peer_matches(p, ns, dst)))
                                && ports_match(rule.get("ports"), dst, port, protocol)
                        })
                    })
            }
        };
        let ingress = match dst {
            End::Outside(_) => true,
            End::Pod(pod) => {
                let mut policies = self.selecting(pod, "Ingress").peekable();
                policies.peek().is_none()
                    || policies.any(|(ns, spec)| {
                        spec["ingress"].as_array().into_iter().flatten().any(|rule| {
                            let peers = rule["from"].as_array().filter(|l| !l.is_empty());
                            peers.is_none_or(|l| l.iter().any(|p| peer_matches(p, ns, src)))
                                && ports_match(rule.get("ports"), dst, port, protocol)
                        })
                    })
            }
        };
        egress && ingress
    }
}

/// A declared path: from a pod to a pod or an address, on a port.
struct Path {
    from: String,
    to: To,
    port: u16,
    protocol: &'static str,
    why: String,
}

enum To {
    Pod(String),
    Outside(Ipv4Addr),
}

/// The cluster the monorepo deploys into: each service's pods in each
/// environment (their labels and ports from the generated workload), its
/// NetworkPolicies, and the cluster's own pods.
fn monorepo() -> (Cluster, Vec<Path>) {
    let units: Vec<svcc::Unit> = common::services("examples/monorepo")
        .iter()
        .map(|p| {
            let rel = std::path::PathBuf::from(common::rel(p));
            let input = common::loader().read_spec(&rel, &rel).unwrap();
            svcc::Unit { input, defaults: common::defaults_for(p) }
        })
        .collect();
    let opts = svcc::Options { whole_graph: true, ..svcc::Options::default() };
    let loader = common::loader();
    let mut cluster = Cluster { pods: Vec::new(), policies: Vec::new() };
    let mut paths = Vec::new();
    let mut next_ip = 10u8;
    for u in &units {
        let run = svcc::run(&u.input, &u.defaults, &loader, &opts);
        assert!(!run.has_errors(), "{}: {:?}", u.input.name, run.diagnostics);
        for (plan, objects) in run.plans.iter().zip(&run.objects) {
            for o in objects {
                let ns = o.value["metadata"]["namespace"].as_str().unwrap().to_string();
                if o.kind == Kind::NetworkPolicy {
                    cluster.policies.push((ns.clone(), o.value["spec"].clone()));
                }
                if matches!(o.kind, Kind::Deployment | Kind::Rollout) {
                    let t = &o.value["spec"]["template"];
                    let ports = t["spec"]["containers"][0]["ports"].as_array().into_iter().flatten();
                    next_ip += 1;
                    cluster.pods.push(Pod {
                        name: format!("{}-{}", plan.service, plan.environment),
                        namespace: ns,
                        labels: labels_of(&t["metadata"]["labels"]),
                        ports: ports
                            .map(|p| {
                                let name = p["name"].as_str().unwrap().to_string();
                                (
                                    name,
                                    p["containerPort"].as_u64().unwrap() as u16,
                                    p["protocol"].as_str().unwrap().to_string(),
                                )
                            })
                            .collect(),
                        ip: Ipv4Addr::new(10, 244, 0, next_ip),
                    });
                }
                if o.kind == Kind::ServiceMonitor {
                    let port = o.value["spec"]["endpoints"][0]["port"].as_str().unwrap();
                    let number = plan.container.ports.iter().find(|p| p.name == port).unwrap().number;
                    paths.push(Path {
                        from: "prometheus".into(),
                        to: To::Pod(format!("{}-{}", plan.service, plan.environment)),
                        port: number,
                        protocol: "TCP",
                        why: "Prometheus scrapes the metrics port".into(),
                    });
                }
            }
            declared(plan, &mut paths);
        }
    }
    cluster.pods.extend(cluster_pods());
    (cluster, paths)
}

/// What the plan declares: DNS, its calls, its egress, the ingress
/// controller.
fn declared(plan: &svcc::plan::Plan, paths: &mut Vec<Path>) {
    let me = format!("{}-{}", plan.service, plan.environment);
    let net = plan.network.as_ref().expect("every monorepo service has a network block");
    for protocol in ["UDP", "TCP"] {
        paths.push(Path { from: me.clone(), to: To::Pod("coredns".into()), port: 53, protocol, why: "DNS".into() });
    }
    for c in &net.calls {
        // The callee's port number comes from the callee's pod (resolved in `check`).
        paths.push(Path {
            from: me.clone(),
            to: To::Pod(format!("{}-{}", c.service, plan.environment)),
            port: 0,
            protocol: "TCP",
            why: format!("calls {} port={}", c.service, c.port),
        });
    }
    for e in &net.egress {
        let svcc::plan::PlanEndpoint::Cidrs(cidrs) = &e.to else { panic!("the monorepo's egress is to addresses") };
        let (addr, _) = cidrs[0].split_once('/').unwrap();
        let ip: Ipv4Addr = addr.parse().unwrap();
        let Some(svcc::model::PortRef::Number(port)) = e.port else { panic!("egress to an address takes a number") };
        paths.push(Path {
            from: me.clone(),
            to: To::Outside(ip),
            port,
            protocol: "TCP",
            why: format!("egress {}", cidrs[0]),
        });
    }
    for (n, _) in &net.exposed {
        paths.push(Path {
            from: "ingress-nginx".into(),
            to: To::Pod(me.clone()),
            port: *n,
            protocol: "TCP",
            why: "the ingress controller reaches the exposed port".into(),
        });
    }
}

/// A pod of the simulated cluster: name, namespace, labels, named ports
/// (name, number, protocol) and the last byte of its address.
fn pod(name: &str, ns: &str, labels: &[(&str, &str)], ports: &[(&str, u16, &str)], ip: u8) -> Pod {
    Pod {
        name: name.into(),
        namespace: ns.into(),
        labels: labels.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
        ports: ports.iter().map(|(n, p, pr)| ((*n).to_string(), *p, (*pr).to_string())).collect(),
        ip: Ipv4Addr::new(10, 244, 1, ip),
    }
}

/// The cluster's own pods, and strangers.
fn cluster_pods() -> Vec<Pod> {
    vec![
        pod("coredns", "kube-system", &[("k8s-app", "kube-dns")], &[("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")], 1),
        pod("prometheus", "monitoring", &[("app.kubernetes.io/name", "prometheus"), ("prometheus", "k8s")], &[], 2),
        // The public Gateway's pods (examples/monorepo/_defaults.kdl).
        pod("ingress-nginx", "gateway-system", &[("gateway.networking.k8s.io/gateway-name", "public")], &[], 3),
        // A debugging pod in production, and a pod in another namespace
        // that wears the shop's labels: neither declared anywhere.
        pod("debug", "production", &[("app", "debug")], &[("http", 8080, "TCP")], 4),
        pod(
            "impostor",
            "sandbox",
            &[("app.kubernetes.io/name", "shop"), ("app.kubernetes.io/managed-by", "svcc")],
            &[],
            5,
        ),
        pod("dns-lookalike", "production", &[("k8s-app", "dns-cache")], &[("dns", 53, "UDP")], 6),
    ]
}

fn find<'a>(c: &'a Cluster, name: &str) -> &'a Pod {
    c.pods.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no pod {name}"))
}

#[test]
fn every_declared_path_is_allowed() {
    let (cluster, paths) = monorepo();
    assert!(cluster.policies.len() >= 8, "{} policies", cluster.policies.len());
    let mut problems = Vec::new();
    for p in &paths {
        let src = find(&cluster, &p.from);
        let (dst, port) = match &p.to {
            To::Pod(name) => {
                let pod = find(&cluster, name);
                // A call names the callee's port: its number on that pod.
                let port = if p.port == 0 {
                    let name = p.why.rsplit("port=").next().unwrap();
                    pod.ports.iter().find(|(n, _, _)| n == name).unwrap().1
                } else {
                    p.port
                };
                (End::Pod(pod), port)
            }
            To::Outside(ip) => (End::Outside(*ip), p.port),
        };
        if !cluster.allowed(End::Pod(src), dst, port, p.protocol) {
            problems.push(format!("{} → {}:{port}/{} ({}) is denied", p.from, dst.show(), p.protocol, p.why));
        }
    }
    // The declared paths, checked: calls, DNS for every pod, scrapes, exposure, egress.
    assert!(paths.len() >= 30, "{} paths", paths.len());
    assert!(paths.iter().any(|p| p.why == "calls checkout port=grpc"));
    assert!(paths.iter().any(|p| p.why == "calls ledger port=grpc"));
    assert!(paths.iter().any(|p| p.from == "prometheus"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn undeclared_paths_are_denied() {
    let (cluster, _) = monorepo();
    let pod = |n: &str| End::Pod(find(&cluster, n));
    let out = |s: &str| End::Outside(s.parse().unwrap());
    let denied: &[(&str, End<'_>, u16, &str, &str)] = &[
        ("shop-production", pod("ledger-production"), 9090, "TCP", "skips a hop"),
        ("ledger-production", pod("checkout-production"), 50051, "TCP", "calls back up"),
        ("checkout-production", pod("shop-production"), 3000, "TCP", "calls its caller"),
        ("mailer-production", pod("checkout-production"), 3000, "TCP", "a worker calls an API"),
        ("checkout-production", pod("mailer-production"), 3000, "TCP", "the worker serves nothing"),
        ("shop-staging", pod("checkout-production"), 50051, "TCP", "staging reaches production"),
        ("checkout-production", pod("ledger-staging"), 9090, "TCP", "production reaches staging"),
        ("debug", pod("checkout-production"), 50051, "TCP", "an undeclared pod of the namespace"),
        ("debug", pod("ledger-production"), 9090, "TCP", "an undeclared pod of the namespace"),
        ("impostor", pod("checkout-production"), 50051, "TCP", "the caller's labels in another namespace"),
        ("shop-production", pod("checkout-production"), 3000, "TCP", "a port it does not call"),
        ("shop-production", pod("checkout-production"), 50051, "UDP", "the wrong protocol"),
        ("prometheus", pod("checkout-production"), 50051, "TCP", "Prometheus off the metrics port"),
        ("prometheus", pod("ledger-production"), 9090, "TCP", "Prometheus where nothing is scraped"),
        ("ingress-nginx", pod("checkout-production"), 50051, "TCP", "the ingress controller off the exposed port"),
        ("ingress-nginx", pod("ledger-production"), 9090, "TCP", "the ingress controller to an unexposed service"),
        ("shop-production", pod("dns-lookalike"), 53, "UDP", "DNS to another pod"),
        ("checkout-production", out("8.8.8.8"), 443, "TCP", "an undeclared address"),
        ("checkout-production", out("203.0.113.9"), 80, "TCP", "a declared address on another port"),
        ("ledger-production", out("10.40.1.1"), 22, "TCP", "the database range on another port"),
        ("mailer-production", out("10.40.1.1"), 5432, "TCP", "another service's database"),
        ("ledger-production", pod("debug"), 8080, "TCP", "egress to an undeclared pod"),
    ];
    let mut problems = Vec::new();
    for (from, to, port, protocol, why) in denied {
        if cluster.allowed(pod(from), *to, *port, protocol) {
            problems.push(format!("{from} → {}:{port}/{protocol} is allowed ({why})", to.show()));
        }
    }
    // And the evaluator is not simply denying everything.
    assert!(cluster.allowed(pod("shop-staging"), pod("checkout-staging"), 50051, "TCP"));
    assert!(cluster.allowed(pod("checkout-production"), out("203.0.113.9"), 443, "TCP"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A pod of the cluster from a pod template (its labels and ports).
fn pod_of(name: String, namespace: &str, template: &Value, ip: u8) -> Pod {
    let ports = template["spec"]["containers"][0]["ports"].as_array().into_iter().flatten();
    Pod {
        name,
        namespace: namespace.to_string(),
        labels: labels_of(&template["metadata"]["labels"]),
        ports: ports
            .map(|p| {
                let name = p["name"].as_str().unwrap().to_string();
                (name, p["containerPort"].as_u64().unwrap() as u16, p["protocol"].as_str().unwrap().to_string())
            })
            .collect(),
        ip: Ipv4Addr::new(10, 244, 2, ip),
    }
}

/// examples/jobs-and-config in production: the service's pods, a pod of
/// each Job and CronJob, their policies, and the database in `data`.
fn jobs_and_config() -> Cluster {
    let rel = std::path::PathBuf::from("examples/jobs-and-config/service.kdl");
    let input = common::loader().read_spec(&rel, &rel).unwrap();
    let opts = svcc::Options { image_tag: Some("2.7.0".into()), ..svcc::Options::default() };
    let run = svcc::run(&input, &common::defaults_for(&common::root().join(&rel)), &common::loader(), &opts);
    assert!(!run.has_errors(), "{:?}", run.diagnostics);
    let mut cluster = Cluster { pods: Vec::new(), policies: Vec::new() };
    let (plan, objects) = run.plans.iter().zip(&run.objects).find(|(p, _)| p.environment == "production").unwrap();
    let mut ip = 10;
    for o in objects {
        let template = match o.kind {
            Kind::NetworkPolicy => {
                cluster.policies.push(("production".into(), o.value["spec"].clone()));
                continue;
            }
            Kind::Deployment | Kind::Job => &o.value["spec"]["template"],
            Kind::CronJob => &o.value["spec"]["jobTemplate"]["spec"]["template"],
            _ => continue,
        };
        ip += 1;
        // Named by its pods' name label (a Job's object name has a hash).
        let name = template["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap().to_string();
        cluster.pods.push(pod_of(name, "production", template, ip));
    }
    assert_eq!(plan.jobs.len(), 3);
    cluster.pods.extend([
        pod("coredns", "kube-system", &[("k8s-app", "kube-dns")], &[("dns", 53, "UDP")], 1),
        pod("invoices-db", "data", &[("app.kubernetes.io/name", "invoices-db")], &[("postgres", 5432, "TCP")], 2),
        pod("other-db", "data", &[("app.kubernetes.io/name", "orders-db")], &[("postgres", 5432, "TCP")], 3),
        pod(
            "checkout",
            "production",
            &[("app.kubernetes.io/name", "checkout"), ("app.kubernetes.io/managed-by", "svcc")],
            &[],
            4,
        ),
        pod("debug", "production", &[("app", "debug")], &[], 5),
    ]);
    cluster
}

#[test]
fn jobs_reach_what_they_declare_and_nothing_reaches_them() {
    let c = jobs_and_config();
    assert_eq!(c.policies.len(), 4, "the service's and one per job");
    let pod = |n: &str| End::Pod(find(&c, n));
    let out = |s: &str| End::Outside(s.parse().unwrap());
    let jobs = ["invoices-migrate", "invoices-warm-cache", "invoices-nightly-report"];
    let mut problems = Vec::new();
    let mut expect = |from: End<'_>, to: End<'_>, port: u16, protocol: &str, allowed: bool| {
        if c.allowed(from, to, port, protocol) != allowed {
            let verdict = if allowed { "denied" } else { "allowed" };
            problems.push(format!("{} → {}:{port}/{protocol} is {verdict}", from.show(), to.show()));
        }
    };
    for who in std::iter::once("invoices").chain(jobs) {
        expect(pod(who), pod("invoices-db"), 5432, "TCP", true);
        expect(pod(who), pod("coredns"), 53, "UDP", true);
        expect(pod(who), pod("other-db"), 5432, "TCP", false);
        expect(pod(who), pod("invoices-db"), 22, "TCP", false);
        expect(pod(who), out("8.8.8.8"), 443, "TCP", false);
    }
    // Only the nightly report writes to the bucket.
    expect(pod("invoices-nightly-report"), out("198.51.100.7"), 443, "TCP", true);
    for who in ["invoices", "invoices-migrate", "invoices-warm-cache"] {
        expect(pod(who), out("198.51.100.7"), 443, "TCP", false);
    }
    // The service's declared caller reaches it; nothing reaches a job.
    expect(pod("checkout"), pod("invoices"), 8080, "TCP", true);
    expect(pod("debug"), pod("invoices"), 8080, "TCP", false);
    for job in jobs {
        for from in ["checkout", "debug", "invoices"] {
            expect(pod(from), pod(job), 8080, "TCP", false);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
