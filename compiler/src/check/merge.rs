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
//! itself ([`Merger::set_paths`] records what a layer sets). Both report a
//! setting by its path in the settings registry ([`crate::settings`]).
//!
//! Where the rules live: [`layer`] is the table of the body's fields, one
//! line each. A scalar or a map is merged on its line; a block merged field
//! by field (`image`, `port`, `probes`, `security`, …) by a `merge` function
//! in that block's module (`check/image.rs`, …), beside the block's
//! defaults and checks, so one file holds everything about a block. Every
//! merge takes both values apart with no `..` and builds the result with no
//! `..`: a field added to a model struct does not compile until its merge
//! is written.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::settings::{self as s, Setting};
use crate::source::{Span, Spanned};

use super::{
    config, containers, gitops, image, jobs, lifecycle, metadata, monitoring, network, ports, probes, resources,
    rollout, route, scaling, scheduling, security, volumes,
};

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
pub(super) trait Site {
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

/// The upper value if there is one, else the lower.
pub(super) fn or<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
    over.clone().or_else(|| base.clone())
}

/// `base` with `over`'s entries added or replaced (a replaced entry keeps its position).
pub(super) fn merge_map<V: Clone>(base: &Map<V>, over: &Map<V>) -> Map<V> {
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

    /// The upper layer gives the setting at `path` (a conflict in
    /// [`Mode::Combine`] when the lower one gives it differently).
    pub(super) fn note<T: Site>(&mut self, path: String, over: &T, base: Option<&T>) {
        if let (Mode::Combine { at }, Some(b)) = (self.mode, base)
            && !over.same(b)
        {
            self.conflicts.push(Conflict { path: path.clone(), first: b.site(), second: over.site(), at });
        }
        self.set_paths.push(path);
    }

    /// A scalar setting: the upper value wins.
    pub(super) fn pick<T: Clone + Site>(&mut self, setting: &Setting, over: &Option<T>, base: &Option<T>) -> Option<T> {
        if let Some(o) = over {
            self.note(setting.path.to_string(), o, base.as_ref());
        }
        or(over, base)
    }

    /// A scalar setting of a keyed item (`port.NAME.protocol` of port `key`).
    pub(super) fn pick_at<T: Clone + Site>(
        &mut self,
        setting: &Setting,
        key: &str,
        over: &Option<T>,
        base: &Option<T>,
    ) -> Option<T> {
        if let Some(o) = over {
            self.note(setting.with_key(key), o, base.as_ref());
        }
        or(over, base)
    }

    /// A map whose entries can conflict (`labels.KEY`).
    pub(super) fn map<V: Clone + Site>(&mut self, setting: &Setting, base: &Map<V>, over: &Map<V>) -> Map<V> {
        for (k, v) in over {
            self.note(setting.with_key(k), v, base.get(k));
        }
        merge_map(base, over)
    }

    /// The upper layer gives all of these (a block the lower one lacks).
    pub(super) fn set_all(&mut self, settings: &[&Setting]) {
        self.set_paths.extend(settings.iter().map(|s| s.path.to_string()));
    }

    /// The diagnostics sink, for a block's own merge errors.
    pub(super) fn diags(&mut self) -> &mut Diagnostics {
        self.diags
    }

    /// `f` on a merger of the same layers that reports the settings it
    /// merges under `prefix` (a container's body: `container.envoy.image.tag`).
    pub(super) fn within<T>(&mut self, prefix: &str, f: impl FnOnce(&mut Merger<'_>) -> T) -> T {
        let mut inner = Merger {
            diags: &mut *self.diags,
            what: self.what.clone(),
            base_site: self.base_site,
            below: self.below.clone(),
            mode: self.mode,
            conflicts: Vec::new(),
            set_paths: Vec::new(),
        };
        let out = f(&mut inner);
        let Merger { conflicts, set_paths, .. } = inner;
        self.conflicts.extend(conflicts.into_iter().map(|c| Conflict { path: format!("{prefix}.{}", c.path), ..c }));
        self.set_paths.extend(set_paths.into_iter().map(|p| format!("{prefix}.{p}")));
        out
    }

    /// SVC0305: the upper layer refines `thing` (e.g. "port `http`"), which
    /// no lower layer declares.
    pub(super) fn refines(&mut self, thing: &str, at: Span, help: &str) {
        self.diags.push(
            Diagnostic::error(
                Code::OverrideWithoutBase,
                format!("{} refines {thing}, which {}", self.what, self.below),
            )
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

/// `Body { field: { let b = &base.field; let o = &over.field; merge }, … }`:
/// one merge expression per field, the two layers' values bound by name.
macro_rules! merge_fields {
    ($base:ident, $over:ident; $($field:ident: |$b:ident, $o:ident| $merge:expr),* $(,)?) => {
        Body {
            $($field: {
                let $b = &$base.$field;
                let $o = &$over.$field;
                $merge
            },)*
        }
    };
}

/// `over` laid on `base` (see the module documentation). The fields are
/// merged in the order of [`Body`], which is the order conflicts are
/// reported in. The struct literal the macro writes names every field of
/// [`Body`] with no `..`, so a new field without a merge line does not
/// compile; each line binds the field of both layers by name.
pub fn layer(base: &Body, over: &Body, c: &mut Merger<'_>) -> Body {
    let (bg, cn) = rollout::merge((&base.blue_green, &base.canary), (&over.blue_green, &over.canary));
    merge_fields!(base, over;
        image: |b, o| image::merge(c, b, o),
        version: |b, o| c.pick(&s::VERSION, o, b),
        namespace: |b, o| c.pick(&s::NAMESPACE, o, b),
        ports: |b, o| ports::merge(c, b, o),
        replicas: |b, o| c.pick(&s::REPLICAS, o, b),
        resources: |b, o| resources::merge(c, b, o),
        probes: |b, o| probes::merge(c, b, o),
        env: |b, o| c.map(&s::ENV, b, o),
        env_from: |b, o| merge_map(b, o),
        command: |b, o| c.pick(&s::COMMAND, o, b),
        args: |b, o| c.pick(&s::ARGS, o, b),
        labels: |b, o| c.map(&s::LABELS, b, o),
        annotations: |b, o| c.map(&s::ANNOTATIONS, b, o),
        pod_annotations: |b, o| c.map(&s::POD_ANNOTATIONS, b, o),
        volumes: |b, o| volumes::merge(c, b, o),
        service_account: |b, o| security::merge_service_account(c, b, o),
        security: |b, o| security::merge(c, b, o),
        autoscale: |b, o| scaling::merge_autoscale(c, b, o),
        rolling: |b, o| lifecycle::merge_rolling(c, b, o),
        shutdown: |b, o| lifecycle::merge_shutdown(c, b, o),
        disruption: |b, o| or(o, b),
        node_selector: |b, o| c.map(&s::NODE_SELECTOR, b, o),
        tolerations: |b, o| merge_map(b, o),
        placement: |b, o| scheduling::merge_placement(c, b, o),
        metrics: |b, o| monitoring::merge_metrics(c, b, o),
        alerts: |b, o| monitoring::merge_alerts(b, o),
        slos: |b, o| monitoring::merge_slos(b, o),
        // Both merged together above: a canary replaces a blue-green.
        blue_green: |_b, _o| bg,
        canary: |_b, _o| cn,
        container_name: |b, o| c.pick(&s::CONTAINER_NAME, o, b),
        containers: |b, o| containers::merge(c, b, o),
        updates: |b, o| lifecycle::merge_updates(c, b, o),
        jobs: |b, o| jobs::merge(c, b, o),
        config_maps: |b, o| config::merge_config_maps(c, b, o),
        external_secrets: |b, o| config::merge_external_secrets(c, b, o),
        network: |b, o| network::merge(b, o),
        patches: |b, o| b.iter().chain(o).cloned().collect(),
        names: |b, o| metadata::merge_names(c, b, o),
        selector: |b, o| or(o, b),
        exposes: |b, o| ports::merge_exposes(c, b, o),
        objects: |b, o| metadata::merge_objects(b, o),
        gitops: |b, o| gitops::merge(c, b, o),
        route: |b, o| route::merge(b, o),
        autoscale_engine: |b, o| scaling::merge_engine(b, o),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(settings: &str) -> Body {
        let text = format!("service s {{\n{settings}\n}}\n");
        let mut diags = Diagnostics::new();
        let spec = crate::syntax::parse(&text, &mut diags).and_then(|doc| crate::decode::decode(&doc, &mut diags));
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        spec.expect("decodes").body
    }

    /// Every setting the merge reports, given differently by two presets
    /// (`c` names another repository, so `image` conflicts and its tag and
    /// digest are not inherited; and another GitOps engine, so `gitops`
    /// conflicts and no setting of the block below is inherited).
    const A: &str = r#"
        container-name "a"
        image "ghcr.io/acme/a" tag="1" digest="sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" pull-policy="Always"
        version "a"
        namespace "a"
        port http 8080 service-port=80 protocol="TCP" host-port=80
        replicas 1
        resources {
            requests cpu="100m" memory="1Mi" ephemeral-storage="1Mi"
            limits cpu="200m" memory="2Mi" ephemeral-storage="2Mi"
        }
        probes {
            liveness "/a" port="http" scheme="HTTP" initial-delay="1s" period="1s" timeout="1s" failure-threshold=1 success-threshold=1 { header "X-A" "a" }
            readiness "grpc" service="a"
        }
        env { A "a" }
        command "a"
        args "a"
        labels { team "a" }
        annotations { note "a" }
        pod-annotations { note "a" }
        volumes {
            tmp "/a" size-limit="1Mi" memory=#false
            conf "/c" config-map="a" optional=#true read-only=#true { "a.yaml" "a" }
        }
        service-account "a" create=#true automount-token=#false
        security {
            run-as-user 1
            run-as-group 1
            fs-group 1
            run-as-non-root #true
            read-only-root-filesystem #true
            allow-privilege-escalation #false
            add-capabilities "NET_BIND_SERVICE"
            seccomp "RuntimeDefault"
            per-container #false
            allow host-network reason="a"
        }
        autoscale #false min=1 max=2 { cpu 10; memory 10 }
        rolling-update max-surge=1 max-unavailable=1
        shutdown pre-stop="1s" grace="10s"
        min-ready "1s"
        progress-deadline "100s"
        revision-history 1
        node-selector { zone "a" }
        priority-class "a"
        metrics path="/a" port="http"
        expose "x" #true type="NodePort" headless=#false external-traffic-policy="Local" { port http 80; }
        names {
            workload "a"; service "a"; preview-service "a"; canary-service "a"
            autoscaler "a"; disruption-budget "a"; service-monitor "a"; prometheus-rule "a"
        }
        gitops argocd {
            repo "https://a.example.com/deploy.git" revision="a"
            path "a"
            namespace "a"
            name "a"
            application-set #true
            project "a" create=#true
            source "a" kind="GitRepository" namespace="a"
            sync automated=#true prune=#true self-heal=#true interval="1m" wait=#true timeout="1m"
            sync-options "PruneLast=true"
            cluster production "a"
        }
    "#;

    const B: &str = r#"
        container-name "b"
        image tag="2" digest="sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" pull-policy="Never"
        version "b"
        namespace "b"
        port http 9090 service-port=90 protocol="UDP" host-port=90
        replicas 2
        resources {
            requests cpu="300m" memory="3Mi" ephemeral-storage="3Mi"
            limits cpu="400m" memory="4Mi" ephemeral-storage="4Mi"
        }
        probes {
            liveness "/b" port="metrics" scheme="HTTPS" initial-delay="2s" period="2s" timeout="2s" failure-threshold=2 success-threshold=2 { header "X-B" "b" }
            readiness "grpc" service="b"
        }
        env { A "b" }
        command "b"
        args "b"
        labels { team "b" }
        annotations { note "b" }
        pod-annotations { note "b" }
        volumes {
            tmp "/b" size-limit="2Mi" memory=#true
            conf "/d" config-map="b" optional=#false read-only=#false { "b.yaml" "b" }
        }
        service-account "b" create=#false automount-token=#true
        security {
            run-as-user 2
            run-as-group 2
            fs-group 2
            run-as-non-root #false
            read-only-root-filesystem #false
            allow-privilege-escalation #true
            add-capabilities "SYS_TIME"
            seccomp "Unconfined"
            per-container #true
            allow host-network reason="b"
        }
        autoscale #true min=2 max=3 { cpu 20; memory 20 }
        rolling-update max-surge=2 max-unavailable=2
        shutdown pre-stop="2s" grace="20s"
        min-ready "2s"
        progress-deadline "200s"
        revision-history 2
        node-selector { zone "b" }
        priority-class "b"
        metrics path="/b" port="metrics"
        expose "x" #false type="LoadBalancer" headless=#true external-traffic-policy="Cluster" { port http 90; }
        names {
            workload "b"; service "b"; preview-service "b"; canary-service #false
            autoscaler "b"; disruption-budget "b"; service-monitor "b"; prometheus-rule "b"
        }
        gitops argocd {
            repo "https://b.example.com/deploy.git" revision="b"
            path "b"
            namespace "b"
            name "b"
            application-set #false
            project "b" create=#false
            source "b" kind="Bucket" namespace="b"
            sync automated=#false prune=#false self-heal=#false interval="2m" wait=#false timeout="2m"
            sync-options "Replace=true"
            cluster production "b"
        }
    "#;

    const C: &str = r#"image "ghcr.io/acme/c"; gitops flux"#;

    /// The conflicts and set paths of `over` combined with `base`.
    fn combine(base: &str, over: &str) -> (Vec<String>, Vec<String>) {
        let mut diags = Diagnostics::new();
        let at = Span::default();
        let mut m = Merger::new(&mut diags, "preset `b`", at, Mode::Combine { at });
        let _ = layer(&body(base), &body(over), &mut m);
        (m.conflicts.into_iter().map(|c| c.path).collect(), m.set_paths)
    }

    /// The merge and the registry spell every setting the same way: each
    /// path the merge reports is a registry setting it reports, and each
    /// such setting is reported.
    #[test]
    fn the_merge_reports_the_registry_paths() {
        let (mut conflicts, mut set) = combine(A, B);
        let (c2, s2) = combine(A, C);
        conflicts.extend(c2);
        set.extend(s2);
        for path in conflicts.iter().chain(&set) {
            let s = s::by_path(path).unwrap_or_else(|| panic!("the merge reports `{path}`, not in the registry"));
            assert!(s.reported, "the merge reports `{path}`, which the registry says it does not");
        }
        for s in s::ALL.iter().filter(|s| s.reported) {
            let named = |p: &String| s::by_path(p).is_some_and(|t| t.path == s.path);
            assert!(conflicts.iter().any(named), "no conflict on `{}`", s.path);
        }
        assert!(conflicts.iter().any(|p| p == "service-account.automount-token"), "{conflicts:?}");
    }
}
