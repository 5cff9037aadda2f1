//! `container-name`, `container` and `init-container`: the pod's
//! containers. Every container, the service's own included, is resolved by
//! [`resolve`] from its body with the same block resolvers (image, ports,
//! resources, probes, env, command, volumes), so a sidecar gets the same
//! defaults and checks; the pod-wide rules (names, ports and volumes shared
//! by the containers) are checked by [`others`].

use std::collections::BTreeMap;

use super::merge::{Merger, layer};
use super::ports::Ports;
use super::{Cx, command, env, image, ports, probes, resources, volumes};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Container, Map};
use crate::plan::{PlanContainer, PlanVolume, Role};
use crate::settings as s;
use crate::source::Span;

/// Container by container, by name: an upper layer's container refines the
/// one below it (its body merged like a service's), or adds one. It may not
/// turn a container into an init container or back.
pub(super) fn merge(c: &mut Merger<'_>, base: &Map<Container>, over: &Map<Container>) -> Map<Container> {
    let mut out = base.clone();
    for (name, o) in over {
        let Container { name: o_name, node, init, sidecar, body } = o;
        let Some(b) = base.get(name) else {
            c.note(s::CONTAINER.with_key(name), o_name, None);
            out.insert(name.clone(), o.clone());
            continue;
        };
        let Container { name: _, node: b_node, init: b_init, sidecar: b_sidecar, body: b_body } = b;
        if init != b_init {
            c.diags().push(
                Diagnostic::error(
                    Code::ContainerConflict,
                    format!("`{name}` is {} below and {} here", kind(*b_init), kind(*init)),
                )
                .at(*node, "declared again as another kind")
                .also(*b_node, "first declared here")
                .help("keep the kind of the container it refines, or give the new container another name"),
            );
            continue;
        }
        let merged = c.within(&s::CONTAINER.with_key(name), |c| layer(b_body, body, c));
        out.insert(
            name.clone(),
            Container {
                name: o_name.clone(),
                node: *node,
                init: *init,
                sidecar: c.pick_at(&s::CONTAINER, name, sidecar, b_sidecar),
                body: merged,
            },
        );
    }
    out
}

fn kind(init: bool) -> &'static str {
    if init { "an `init-container`" } else { "a `container`" }
}

/// One resolved container, with what the pod-wide checks and the service's
/// own blocks read besides its plan.
pub(super) struct Resolved<'b> {
    pub plan: PlanContainer,
    pub ports: Ports<'b>,
    /// The image tag (the service's: its version label).
    pub version: Option<String>,
}

/// The container `b` describes: the service's own (`cx.container` is
/// `None`) or one of the others.
pub(super) fn resolve<'b>(cx: &Cx<'_>, role: Role, span: Span, b: &'b Body, diags: &mut Diagnostics) -> Resolved<'b> {
    let name = match (cx.container, &b.container_name) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) => n.value.clone(),
        (None, None) => cx.service.to_string(),
    };
    let image = image::resolve(cx, b.image.as_ref(), diags);
    let ports = ports::resolve(&b.ports, diags);
    let resources = resources::resolve(cx, &b.resources, diags);
    let probes = probes::resolve(cx, &b.probes, &ports, diags);
    let (command, args) = command::resolve(&b.command, &b.args);
    let plan = PlanContainer {
        name,
        role,
        span,
        image: image.reference,
        image_span: image.span,
        pull_policy: image.pull_policy,
        ports: ports.list.clone(),
        requests: resources.requests,
        limits: resources.limits,
        probes,
        env: env::resolve(&b.env),
        env_from: env::resolve_from(&b.env_from),
        command,
        args,
        volumes: volumes::resolve(&b.volumes, diags),
    };
    Resolved { plan, ports, version: image.version }
}

/// The pod's other containers, in declaration order, checked against the
/// service's container and each other.
pub(super) fn others(cx: &Cx<'_>, b: &Body, main: &PlanContainer, diags: &mut Diagnostics) -> Vec<PlanContainer> {
    let mut names: BTreeMap<String, Span> = BTreeMap::from([(main.name.clone(), main.span)]);
    let mut ports: BTreeMap<String, Span> = main.ports.iter().map(|p| (p.name.clone(), p.span)).collect();
    let mut numbers: BTreeMap<(u16, String), Span> =
        main.ports.iter().map(|p| ((p.number, p.protocol.clone()), p.span)).collect();
    let mut pod_volumes: Vec<PlanVolume> = main.volumes.clone();
    let mut out = Vec::new();
    for c in b.containers.values() {
        let role = match (c.init, c.sidecar.as_ref().is_some_and(|s| s.value)) {
            (true, _) => Role::Init,
            (false, true) => Role::NativeSidecar,
            (false, false) => Role::Sidecar,
        };
        let inner = Cx { container: Some(&c.name.value), ..*cx };
        let mut plan = resolve(&inner, role, c.name.span, &c.body, diags).plan;
        if let Some(first) = names.get(&plan.name) {
            diags.push(
                Diagnostic::error(Code::ContainerConflict, format!("two containers of the pod are named `{}`", plan.name))
                    .at(c.name.span, "named again here")
                    .also(*first, "first named here")
                    .help("give each container its own name (the service's container is named after the service unless `container-name` says otherwise)"),
            );
        }
        names.insert(plan.name.clone(), c.name.span);
        pod_ports(&plan, &mut ports, &mut numbers, diags);
        not_for_init(c, &plan, diags);
        shared_volumes(c, &mut plan, &mut pod_volumes, diags);
        out.push(plan);
    }
    out
}

/// Port names are unique in the pod (a Service and a probe find a port by
/// name), and the containers share one network: two cannot listen on one
/// number.
fn pod_ports(
    plan: &PlanContainer,
    names: &mut BTreeMap<String, Span>,
    numbers: &mut BTreeMap<(u16, String), Span>,
    diags: &mut Diagnostics,
) {
    for p in &plan.ports {
        if let Some(first) = names.get(&p.name) {
            diags.push(
                Diagnostic::error(
                    Code::ContainerConflict,
                    format!("two containers of the pod declare port `{}`", p.name),
                )
                .at(p.span, "declared again here")
                .also(*first, "first declared here")
                .help("port names are unique in a pod: rename one of them"),
            );
        } else if let Some(first) = numbers.get(&(p.number, p.protocol.clone())) {
            diags.push(
                Diagnostic::error(
                    Code::ContainerConflict,
                    format!("two containers of the pod listen on port {}", p.number),
                )
                .at(p.span, "listens again here")
                .also(*first, "first listens here")
                .help("the containers of a pod share one network address: give each its own port"),
            );
        }
        names.insert(p.name.clone(), p.span);
        numbers.insert((p.number, p.protocol.clone()), p.span);
    }
}

/// SVC0370: an init container that runs to completion cannot be probed or
/// serve: Kubernetes refuses its probes, and nothing reaches its ports.
fn not_for_init(c: &Container, plan: &PlanContainer, diags: &mut Diagnostics) {
    if plan.role != Role::Init {
        return;
    }
    let probe =
        [&c.body.probes.startup, &c.body.probes.liveness, &c.body.probes.readiness].into_iter().find_map(|p| match p {
            Some(crate::model::ProbeSetting::On(p)) => Some(p.node),
            _ => None,
        });
    if let Some(at) = probe {
        diags.push(
            Diagnostic::error(
                Code::InitContainerProbe,
                format!("init container `{}` runs to completion and cannot be probed", plan.name),
            )
            .at(at, "a probe of an init container")
            .also(c.node, "an init container")
            .help("remove the probes, or make it a sidecar that runs beside the service: `container NAME sidecar=#true { … }`")
            .note("the API server refuses probes on an init container without `restartPolicy: Always`"),
        );
    }
}

/// A container's volume named like one another container declares is the
/// same pod volume: without a source it mounts that one, with another
/// source it is SVC0371.
fn shared_volumes(c: &Container, plan: &mut PlanContainer, pod: &mut Vec<PlanVolume>, diags: &mut Diagnostics) {
    for v in &mut plan.volumes {
        let written = c.body.volumes.get(&v.name);
        let Some(shared) = pod.iter().find(|p| p.name == v.name) else {
            pod.push(v.clone());
            continue;
        };
        let own = written.and_then(|w| w.source.clone());
        let only_path = written
            .is_some_and(|w| w.size_limit.is_none() && w.memory.is_none() && w.optional.is_none() && w.items.is_none());
        // `read-only=` is the mount's own, not the volume's.
        let read_only = written.and_then(|w| w.read_only.as_ref()).map(|r| r.value);
        let same = |a: &PlanVolume, b: &PlanVolume| {
            (&a.source, &a.size_limit, a.memory, a.optional, &a.items)
                == (&b.source, &b.size_limit, b.memory, b.optional, &b.items)
        };
        match own {
            None if only_path => {
                let path = std::mem::take(&mut v.path);
                *v = PlanVolume { path, read_only, ..shared.clone() };
            }
            _ if same(v, shared) => {}
            _ => {
                let at = written.map_or(c.name.span, |w| w.name.span);
                diags.push(
                    Diagnostic::error(
                        Code::ContainerConflict,
                        format!("volume `{}` is declared differently by two containers", v.name),
                    )
                    .at(at, "declared again here")
                    .help(format!(
                        "to share it, write only its mount path here (`{} \"/path\"`); otherwise give it another name",
                        v.name
                    )),
                );
            }
        }
    }
}
