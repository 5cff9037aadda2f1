//! `gitops`: how a GitOps engine deploys the service (docs/gitops.md).
//!
//! The block merges setting by setting (`cluster` lines by environment);
//! a layer that names another engine, or `gitops #false`, replaces the
//! block below it as a whole, as an image of another repository drops the
//! tag below it. Resolving checks which settings belong to which engine and
//! applies the defaults, per environment. The objects the plans ask for
//! span services: `crate::gitops` builds them once every service compiled.

use super::Cx;
use super::merge::{Merger, Site};
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Cluster, Engine, Gitops, Spec};
use crate::plan::{PlanEngine, PlanGitops};
use crate::settings as s;
use crate::source::{Span, Spanned};
use crate::values;

/// Where the engine's objects go when `namespace` is not given.
pub const DEFAULT_NAMESPACE_ARGOCD: &str = "argocd";
pub const DEFAULT_NAMESPACE_FLUX: &str = "flux-system";
/// The ApplicationSet's name and the Kustomizations' prefix.
pub const DEFAULT_NAME: &str = "svcc";
/// Flux's reconciliation interval.
pub const DEFAULT_INTERVAL: &str = "5m";

impl Site for Cluster {
    fn site(&self) -> Span {
        self.name.span
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
}

/// `over` laid on `base`.
pub(super) fn merge(c: &mut Merger<'_>, base: &Option<Gitops>, over: &Option<Gitops>) -> Option<Gitops> {
    let Some(o) = over else { return base.clone() };
    let empty = Gitops::new(o.node);
    let b = match base {
        Some(b) if switches(b, o) => {
            if let (Some(oe), Some(be)) = (&o.engine, &b.engine) {
                c.note(s::GITOPS.path.to_string(), oe, Some(be));
            }
            &empty
        }
        Some(b) => b,
        None => &empty,
    };
    let Gitops {
        node: _,
        engine: b_engine,
        repo: b_repo,
        revision: b_revision,
        path: b_path,
        namespace: b_namespace,
        name: b_name,
        application_set: b_application_set,
        project: b_project,
        create_project: b_create_project,
        source: b_source,
        source_kind: b_source_kind,
        source_namespace: b_source_namespace,
        automated: b_automated,
        prune: b_prune,
        self_heal: b_self_heal,
        interval: b_interval,
        wait: b_wait,
        timeout: b_timeout,
        sync_options: b_sync_options,
        clusters: b_clusters,
    } = b;
    let Gitops {
        node,
        engine,
        repo,
        revision,
        path,
        namespace,
        name,
        application_set,
        project,
        create_project,
        source,
        source_kind,
        source_namespace,
        automated,
        prune,
        self_heal,
        interval,
        wait,
        timeout,
        sync_options,
        clusters,
    } = o;
    Some(Gitops {
        node: *node,
        engine: c.pick(&s::GITOPS, engine, b_engine),
        repo: c.pick(&s::GITOPS_REPO, repo, b_repo),
        revision: c.pick(&s::GITOPS_REPO_REVISION, revision, b_revision),
        path: c.pick(&s::GITOPS_PATH, path, b_path),
        namespace: c.pick(&s::GITOPS_NAMESPACE, namespace, b_namespace),
        name: c.pick(&s::GITOPS_NAME, name, b_name),
        application_set: c.pick(&s::GITOPS_APPLICATION_SET, application_set, b_application_set),
        project: c.pick(&s::GITOPS_PROJECT, project, b_project),
        create_project: c.pick(&s::GITOPS_PROJECT_CREATE, create_project, b_create_project),
        source: c.pick(&s::GITOPS_SOURCE, source, b_source),
        source_kind: c.pick(&s::GITOPS_SOURCE_KIND, source_kind, b_source_kind),
        source_namespace: c.pick(&s::GITOPS_SOURCE_NAMESPACE, source_namespace, b_source_namespace),
        automated: c.pick(&s::GITOPS_SYNC_AUTOMATED, automated, b_automated),
        prune: c.pick(&s::GITOPS_SYNC_PRUNE, prune, b_prune),
        self_heal: c.pick(&s::GITOPS_SYNC_SELF_HEAL, self_heal, b_self_heal),
        interval: c.pick(&s::GITOPS_SYNC_INTERVAL, interval, b_interval),
        wait: c.pick(&s::GITOPS_SYNC_WAIT, wait, b_wait),
        timeout: c.pick(&s::GITOPS_SYNC_TIMEOUT, timeout, b_timeout),
        sync_options: c.pick(&s::GITOPS_SYNC_OPTIONS, sync_options, b_sync_options),
        clusters: c.map(&s::GITOPS_CLUSTER, b_clusters, clusters),
    })
}

/// Whether `over` names another engine than `base` (or turns it off, or on).
fn switches(base: &Gitops, over: &Gitops) -> bool {
    matches!((&base.engine, &over.engine), (Some(b), Some(o)) if b.value != o.value)
}

/// The settings that belong to one engine only, as written (for SVC0351).
fn only_for(g: &Gitops, engine: Engine) -> Vec<(&'static str, Span)> {
    let at = |v: Option<Span>, what| v.map(|s| (what, s));
    let list = match engine {
        Engine::ArgoCd => vec![
            at(g.repo.as_ref().map(|v| v.span), "repo"),
            at(g.revision.as_ref().map(|v| v.span), "repo revision="),
            at(g.application_set.as_ref().map(|v| v.span), "application-set"),
            at(g.project.as_ref().map(|v| v.span), "project"),
            at(g.create_project.as_ref().map(|v| v.span), "project create="),
            at(g.automated.as_ref().map(|v| v.span), "sync automated="),
            at(g.self_heal.as_ref().map(|v| v.span), "sync self-heal="),
            at(g.sync_options.as_ref().map(|v| v.span), "sync-options"),
        ],
        Engine::Flux => vec![
            at(g.source.as_ref().map(|v| v.span), "source"),
            at(g.source_kind.as_ref().map(|v| v.span), "source kind="),
            at(g.source_namespace.as_ref().map(|v| v.span), "source namespace="),
            at(g.interval.as_ref().map(|v| v.span), "sync interval="),
            at(g.wait.as_ref().map(|v| v.span), "sync wait="),
            at(g.timeout.as_ref().map(|v| v.span), "sync timeout="),
        ],
    };
    list.into_iter().flatten().collect()
}

fn engine_title(e: Engine) -> &'static str {
    match e {
        Engine::ArgoCd => "Argo CD",
        Engine::Flux => "Flux",
    }
}

/// One environment's deployment by its engine: `None` without `gitops`, with
/// `gitops #false`, or with errors (reported). `namespace` is the
/// environment's namespace, which the engine deploys to.
pub(super) fn resolve(
    cx: &Cx<'_>,
    g: Option<&Gitops>,
    namespace: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<PlanGitops> {
    let g = g?;
    let engine = match &g.engine {
        Some(Spanned { value: Some(e), .. }) => *e,
        Some(Spanned { value: None, .. }) => return None,
        None => {
            diags.push(
                Diagnostic::error(Code::GitopsIncomplete, "the `gitops` block does not name its engine")
                    .at(g.node, "Argo CD or Flux?")
                    .help("write `gitops argocd { … }` or `gitops flux { … }`, here or in a layer below (a preset, the org defaults)"),
            );
            return None;
        }
    };
    let errors_before = diags.error_count();
    let other = if engine == Engine::ArgoCd { Engine::Flux } else { Engine::ArgoCd };
    for (what, span) in only_for(g, other) {
        diags.push(
            Diagnostic::error(
                Code::GitopsOtherEngine,
                format!(
                    "`{what}` is {} {} setting, but `{}` deploys with {}",
                    if other == Engine::ArgoCd { "an" } else { "a" },
                    engine_title(other),
                    cx.service,
                    engine_title(engine)
                ),
            )
            .at(span, format!("{} only", engine_title(other)))
            .also(g.engine.as_ref().map_or(g.node, |e| e.span), format!("the engine is {}", engine_title(engine)))
            .help(format!(
                "remove it, or deploy with {} (`gitops {}`)",
                engine_title(other),
                other.as_str()
            )),
        );
    }
    if namespace.is_none() {
        diags.push(
            Diagnostic::error(Code::GitopsNoNamespace, format!("`{}` has no namespace to deploy to", cx.service))
                .at(g.node, "the engine needs each environment's namespace")
                .also(cx.origin, "no `namespace`, no environments")
                .help("add `namespace \"NAME\"` to the service, or declare its environments (each deploys to the namespace of its name)"),
        );
    }
    let cluster = g.clusters.get(cx.env).map(|c| c.name.clone());
    let plan_engine = match engine {
        Engine::ArgoCd => argo_cd(cx, g, diags),
        Engine::Flux => flux(cx, g, cluster.as_ref(), diags),
    };
    if diags.error_count() > errors_before {
        return None;
    }
    let text = |v: &Option<Spanned<String>>, default: &str| {
        v.as_ref().map_or_else(|| default.to_string(), |v| v.value.clone())
    };
    let default_namespace = if engine == Engine::ArgoCd { DEFAULT_NAMESPACE_ARGOCD } else { DEFAULT_NAMESPACE_FLUX };
    Some(PlanGitops {
        engine: plan_engine?,
        path: g.path.as_ref().map(|p| p.value.clone()),
        namespace: text(&g.namespace, default_namespace),
        name: text(&g.name, DEFAULT_NAME),
        prune: g.prune.as_ref().is_none_or(|p| p.value),
        cluster: cluster.map(|c| c.value),
    })
}

fn on(v: &Option<Spanned<bool>>, default: bool) -> bool {
    v.as_ref().map_or(default, |v| v.value)
}

fn argo_cd(cx: &Cx<'_>, g: &Gitops, diags: &mut Diagnostics) -> Option<PlanEngine> {
    let Some(repo) = &g.repo else {
        diags.push(
            Diagnostic::error(Code::GitopsIncomplete, "Argo CD needs the repository it reads the output from")
                .at(g.node, format!("`{}` deploys with Argo CD", cx.service))
                .help("add `repo \"https://github.com/acme/deploy.git\" revision=\"main\"` to the `gitops` block"),
        );
        return None;
    };
    Some(PlanEngine::ArgoCd {
        repo: repo.value.clone(),
        revision: g.revision.as_ref().map_or_else(|| "HEAD".to_string(), |r| r.value.clone()),
        project: g.project.as_ref().map_or_else(|| "default".to_string(), |p| p.value.clone()),
        create_project: on(&g.create_project, false),
        application_set: on(&g.application_set, true),
        automated: on(&g.automated, true),
        self_heal: on(&g.self_heal, true),
        sync_options: g.sync_options.as_ref().map(|o| o.value.clone()).unwrap_or_default(),
    })
}

/// The longest Flux Kustomization name: kustomize-controller labels every
/// object it applies with `kustomize.toolkit.fluxcd.io/name: NAME`, and a
/// label value holds at most 63 characters (fluxcd/flux2#2004).
const FLUX_NAME_MAX: usize = 63;

fn flux(cx: &Cx<'_>, g: &Gitops, cluster: Option<&Spanned<String>>, diags: &mut Diagnostics) -> Option<PlanEngine> {
    let name = g.name.as_ref().map_or(DEFAULT_NAME, |n| n.value.as_str());
    let full = format!("{name}-{}", cx.env);
    if full.len() > FLUX_NAME_MAX {
        let at = g.name.as_ref().map_or(g.node, |n| n.span);
        diags.push(
            Diagnostic::error(
                Code::InvalidName,
                format!("the Flux Kustomization of environment `{}` would be named `{full}`, {} characters long", cx.env, full.len()),
            )
            .at(at, format!("`NAME-{}` is longer than {FLUX_NAME_MAX} characters", cx.env))
            .help("Flux labels every object it applies with the Kustomization's name, and a label value holds at most 63 characters: shorten `name` (or the environment's name)"),
        );
    }
    // Flux names a remote cluster by the Secret holding its kubeconfig.
    if let Some(c) = cluster
        && let Err(why) = values::check_dns1123_subdomain(&c.value)
    {
        diags.push(
            Diagnostic::error(Code::InvalidName, format!("`{}` is not the name of a kubeconfig Secret", c.value))
                .at(c.span, why)
                .help("Flux reaches another cluster through a Secret in its namespace holding the kubeconfig: name that Secret"),
        );
    }
    let Some(source) = &g.source else {
        diags.push(
            Diagnostic::error(Code::GitopsIncomplete, "Flux needs the source that holds the repository")
                .at(g.node, "which GitRepository?")
                .help("add `source \"NAME\"`: the GitRepository (or `kind=\"OCIRepository\"`) Flux pulls this repository with"),
        );
        return None;
    };
    let duration = |d: &Option<Spanned<crate::model::Duration>>| d.as_ref().map(|d| values::format_duration(d.value));
    Some(PlanEngine::Flux {
        source: source.value.clone(),
        source_kind: g.source_kind.as_ref().map_or_else(|| "GitRepository".to_string(), |k| k.value.clone()),
        source_namespace: g.source_namespace.as_ref().map(|n| n.value.clone()),
        interval: duration(&g.interval).unwrap_or_else(|| DEFAULT_INTERVAL.to_string()),
        wait: on(&g.wait, true),
        timeout: duration(&g.timeout),
    })
}

/// `cluster ENV NAME` lines the service's own file writes for an
/// environment it does not have (SVC0354). Lines from presets and org
/// defaults name the environments of many services and are not checked.
pub(super) fn check_clusters(spec: &Spec, diags: &mut Diagnostics) {
    let Some(g) = &spec.body.gitops else { return };
    let envs = super::environment_names(spec);
    let names: Vec<&str> = envs.iter().map(String::as_str).collect();
    for c in g.clusters.values().filter(|c| c.environment.span.file == 0) {
        if names.contains(&c.environment.value.as_str()) {
            continue;
        }
        let mut d = Diagnostic::error(
            Code::GitopsUnknownEnvironment,
            format!("`{}` has no environment `{}`", spec.name.value, c.environment.value),
        )
        .at(c.environment.span, format!("environments: {}", names.join(", ")));
        d = match did_you_mean(&c.environment.value, &names) {
            Some(m) => d.help(format!("did you mean `{m}`?")),
            None => d.help("name one of the service's environments, or remove the line"),
        };
        diags.push(d);
    }
}
