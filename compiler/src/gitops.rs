//! The GitOps files that span services (docs/gitops.md#the-shared-folders), written
//! once every service compiled, from what each one deploys ([`Deployed`]:
//! its name, and per environment the namespace and resolved `gitops`):
//!
//! - `_env.ENVIRONMENT/`: the environment's root, a `kustomization.yaml`
//!   listing a `Namespace` per namespace of the environment and every
//!   service's `SERVICE/ENVIRONMENT` folder;
//! - `_argocd/`: the ApplicationSets, or one Application per service and
//!   environment, and the AppProjects to create, with a `kustomization.yaml`;
//! - `_flux/`: one Kustomization per environment, applying its root, with a
//!   `kustomization.yaml`.
//!
//! These folders sit directly in the output folder, one level above the
//! `SERVICE/ENVIRONMENT` folders, and start with `_`, which no service
//! name does: a `deploy/*/*` glob never takes one for a service.
//!
//! Some objects hold the settings of many services (an ApplicationSet's
//! template, a Flux Kustomization per environment); services that disagree
//! on them are SVC0353, and nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use crate::crd::ApplicationDestination;
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::{self, Artifact};
use crate::lower::gitops::{self as objects, AppParams, FluxParams, Shared};
use crate::pipeline::Run;
use crate::plan::{PlanEngine, PlanGitops};

/// The start of an environment root's folder name (`_env.production`).
pub const ENV_ROOT_PREFIX: &str = "_env.";
/// The folder of the Argo CD objects.
pub const ARGOCD_FOLDER: &str = "_argocd";
/// The folder of the Flux objects.
pub const FLUX_FOLDER: &str = "_flux";
/// Argo CD's name for the cluster it runs in.
pub const IN_CLUSTER: &str = "in-cluster";

/// What one service deploys with a GitOps engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployed {
    pub service: String,
    /// The service's output folder (`folder=`, else the name): the
    /// environment roots list `../FOLDER/ENV`, and Argo CD Applications
    /// are named `FOLDER-ENV`.
    pub folder: String,
    /// The spec file, for messages.
    pub file: String,
    pub environments: Vec<DeployedEnv>,
}

/// One environment of a [`Deployed`] service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployedEnv {
    pub environment: String,
    pub namespace: String,
    pub gitops: PlanGitops,
}

impl Deployed {
    /// The environments of a run that an engine deploys; `None` when there
    /// are none, or the run has errors.
    pub fn of(run: &Run) -> Option<Deployed> {
        let spec = run.spec.as_ref().filter(|_| !run.has_errors())?;
        let environments: Vec<DeployedEnv> = run
            .plans
            .iter()
            .filter_map(|p| {
                Some(DeployedEnv {
                    environment: p.environment.clone(),
                    namespace: p.namespace.clone()?,
                    gitops: p.gitops.clone()?,
                })
            })
            .collect();
        (!environments.is_empty()).then(|| Deployed {
            service: spec.name.value.clone(),
            folder: spec.folder().to_string(),
            file: run.file.name.clone(),
            environments,
        })
    }
}

/// The folder of an environment's root (`_env.production`).
pub fn env_root(environment: &str) -> String {
    format!("{ENV_ROOT_PREFIX}{environment}")
}

/// Whether a folder directly in the output folder is one of these: its
/// name starts with `_`, which no service name does.
pub fn is_shared_folder(name: &str) -> bool {
    name.starts_with('_')
}

/// Every file of the folders above for the services `deployed` (in any
/// order: the files are the same). `output_path` is the output folder's
/// path in the repository (`deploy`), for the services whose `gitops` does
/// not give `path`; `None` when it is not inside a git repository.
pub fn artifacts(deployed: &[Deployed], output_path: Option<&str>) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    let mut all: Vec<&Deployed> = deployed.iter().filter(|d| !d.environments.is_empty()).collect();
    all.sort_by(|a, b| a.folder.cmp(&b.folder));
    let mut errors = conflicts(&all);
    errors.extend(unknown_paths(&all, output_path));
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(first) = all.first().map(|d| &d.environments[0].gitops) else { return Ok(Vec::new()) };
    let base = |g: &PlanGitops| g.path.clone().or_else(|| output_path.map(str::to_string)).unwrap_or_default();
    let mut out = Vec::new();
    let mut checked: Vec<Shared> = Vec::new();
    for (env, (namespaces, services)) in environments(&all) {
        let objects: Vec<Shared> = namespaces
            .into_iter()
            .filter(|n| !objects::BUILT_IN_NAMESPACES.contains(n))
            .map(objects::namespace)
            .collect();
        let mut resources: Vec<String> = objects.iter().map(Shared::file_name).collect();
        resources.extend(services.iter().map(|s| format!("../{s}/{env}")));
        out.extend(folder(&env_root(env), &objects, resources));
        checked.extend(objects);
    }
    let (name, engine_objects) = match first.engine {
        PlanEngine::ArgoCd { .. } => (ARGOCD_FOLDER, argo_cd(&all, &base)),
        PlanEngine::Flux { .. } => (FLUX_FOLDER, flux(&all, &base)),
    };
    let resources = engine_objects.iter().map(Shared::file_name).collect();
    out.extend(folder(name, &engine_objects, resources));
    checked.extend(engine_objects);
    let invalid = validate(&checked);
    if invalid.is_empty() { Ok(out) } else { Err(invalid) }
}

/// Per environment (sorted): its namespaces and its services (sorted).
fn environments<'a>(all: &[&'a Deployed]) -> BTreeMap<&'a str, (BTreeSet<&'a str>, Vec<&'a str>)> {
    let mut envs: BTreeMap<&str, (BTreeSet<&str>, Vec<&str>)> = BTreeMap::new();
    for d in all {
        for e in &d.environments {
            let entry = envs.entry(&e.environment).or_default();
            entry.0.insert(&e.namespace);
            entry.1.push(&d.folder);
        }
    }
    envs
}

/// The files of one folder: its objects, then a `kustomization.yaml`
/// listing `resources`.
fn folder(folder: &str, objects: &[Shared], resources: Vec<String>) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = objects
        .iter()
        .map(|o| Artifact { path: format!("{folder}/{}", o.file_name()), contents: emit::yaml(&o.value) })
        .collect();
    out.push(Artifact { path: format!("{folder}/{}", emit::KUSTOMIZATION), contents: emit::kustomization(&resources) });
    out
}

/// The Argo CD objects: the AppProjects to create, the ApplicationSets
/// (by name), then the Applications of the services that want their own.
fn argo_cd(all: &[&Deployed], base: &dyn Fn(&PlanGitops) -> String) -> Vec<Shared> {
    let mut projects: BTreeMap<&str, (BTreeSet<String>, BTreeSet<ApplicationDestination>)> = BTreeMap::new();
    let mut sets: BTreeMap<&str, (&PlanGitops, Vec<AppParams>)> = BTreeMap::new();
    let mut apps = Vec::new();
    let namespace = &all[0].environments[0].gitops.namespace;
    for d in all {
        for e in &d.environments {
            let g = &e.gitops;
            let PlanEngine::ArgoCd {
                repo,
                revision,
                project,
                create_project,
                application_set,
                automated,
                self_heal,
                sync_options,
            } = &g.engine
            else {
                continue;
            };
            let params = AppParams {
                service: d.folder.clone(),
                environment: e.environment.clone(),
                repo: repo.clone(),
                revision: revision.clone(),
                path: join(&base(g), &format!("{}/{}", d.folder, e.environment)),
                project: project.clone(),
                destination: ApplicationDestination {
                    name: g.cluster.clone().unwrap_or_else(|| IN_CLUSTER.to_string()),
                    namespace: e.namespace.clone(),
                },
            };
            if *create_project {
                let p = projects.entry(project).or_default();
                p.0.insert(repo.clone());
                p.1.insert(params.destination.clone());
            }
            if *application_set {
                sets.entry(&g.name).or_insert_with(|| (g, Vec::new())).1.push(params);
            } else {
                apps.push(objects::application(
                    &params,
                    namespace,
                    objects::sync_policy(*automated, g.prune, *self_heal, sync_options),
                    g.prune,
                ));
            }
        }
    }
    let mut out: Vec<Shared> = projects
        .into_iter()
        .map(|(name, (repos, dests))| {
            objects::app_project(name, namespace, repos.into_iter().collect(), dests.into_iter().collect())
        })
        .collect();
    for (name, (g, params)) in sets {
        let PlanEngine::ArgoCd { automated, self_heal, sync_options, .. } = &g.engine else { continue };
        out.push(objects::application_set(
            name,
            namespace,
            &params,
            objects::sync_policy(*automated, g.prune, *self_heal, sync_options),
            g.prune,
        ));
    }
    out.extend(apps);
    out
}

/// One Flux Kustomization per environment, applying its root.
fn flux(all: &[&Deployed], base: &dyn Fn(&PlanGitops) -> String) -> Vec<Shared> {
    let mut first: BTreeMap<&str, &PlanGitops> = BTreeMap::new();
    for d in all {
        for e in &d.environments {
            first.entry(&e.environment).or_insert(&e.gitops);
        }
    }
    first
        .into_iter()
        .filter_map(|(env, g)| {
            let PlanEngine::Flux { source, source_kind, source_namespace, interval, wait, timeout } = &g.engine else {
                return None;
            };
            Some(objects::flux_kustomization(&FluxParams {
                name: format!("{}-{env}", g.name),
                namespace: g.namespace.clone(),
                path: format!("./{}", join(&base(g), &env_root(env))),
                source_kind: source_kind.clone(),
                source: source.clone(),
                source_namespace: source_namespace.clone(),
                interval: interval.clone(),
                prune: g.prune,
                wait: *wait,
                timeout: timeout.clone(),
                kubeconfig: g.cluster.clone(),
            }))
        })
        .collect()
}

/// `rest` below the folder `base` of the repository (`""`: its root).
fn join(base: &str, rest: &str) -> String {
    if base.is_empty() { rest.to_string() } else { format!("{base}/{rest}") }
}

/// One thing that services sharing an object must agree on.
struct Agreement {
    /// The object, as messages name it (`ApplicationSet \`svcc\``).
    object: String,
    /// The setting, as the language spells it (`gitops.sync`).
    setting: &'static str,
    value: String,
    help: &'static str,
}

/// What `e` of a service must agree on with the other services.
fn agreements(e: &DeployedEnv) -> Vec<Agreement> {
    let g = &e.gitops;
    let agree = |object: String, setting, value: String, help| Agreement { object, setting, value, help };
    let engine = match g.engine {
        PlanEngine::ArgoCd { .. } => "argocd",
        PlanEngine::Flux { .. } => "flux",
    };
    let mut out = vec![
        agree(
            "the output folder".into(),
            "gitops",
            engine.into(),
            "deploy every service of one output folder with one engine: Argo CD and Flux would both apply the environments' root folders",
        ),
        agree(
            format!("the {engine} objects"),
            "gitops.namespace",
            g.namespace.clone(),
            "the engine's objects go into one namespace: set `namespace` once, in the org defaults",
        ),
    ];
    match &g.engine {
        PlanEngine::ArgoCd { application_set: true, automated, self_heal, sync_options, .. } => {
            let help = "an ApplicationSet has one sync policy: give the services the same `sync` and `sync-options`, or put one into an ApplicationSet of its own (`name \"…\"`) or into Applications of its own (`application-set #false`)";
            let object = format!("ApplicationSet `{}`", g.name);
            out.extend([
                agree(
                    object.clone(),
                    "gitops.sync",
                    format!("automated={automated} prune={} self-heal={self_heal}", g.prune),
                    help,
                ),
                agree(object, "gitops.sync-options", format!("[{}]", sync_options.join(" ")), help),
            ]);
        }
        PlanEngine::ArgoCd { .. } => {}
        PlanEngine::Flux { source, source_kind, source_namespace, interval, wait, timeout } => {
            let help = "Flux applies each environment's root folder, which holds every service, with one Kustomization: give the services the same `gitops` settings, in the org defaults";
            let object = format!("the Flux Kustomization of environment `{}`", e.environment);
            let ns = source_namespace.as_deref().unwrap_or("(its own)");
            out.extend([
                agree(object.clone(), "gitops.name", g.name.clone(), help),
                agree(
                    object.clone(),
                    "gitops.path",
                    g.path.clone().unwrap_or_else(|| "(the output folder)".into()),
                    help,
                ),
                agree(object.clone(), "gitops.source", format!("{source_kind} {source} in {ns}"), help),
                agree(
                    object.clone(),
                    "gitops.sync",
                    format!(
                        "interval={interval} prune={} wait={wait} timeout={}",
                        g.prune,
                        timeout.as_deref().unwrap_or("(the interval)")
                    ),
                    help,
                ),
                agree(object, "gitops.cluster", g.cluster.clone().unwrap_or_else(|| "(Flux's own)".into()), help),
            ]);
        }
    }
    out
}

/// SVC0353: services that give one shared object different settings, each
/// conflict reported once per (object, setting, service).
fn conflicts(all: &[&Deployed]) -> Vec<Diagnostic> {
    let mut first: BTreeMap<(String, &'static str), (&Deployed, String)> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    let mut out = Vec::new();
    for d in all {
        for e in &d.environments {
            for a in agreements(e) {
                let key = (a.object.clone(), a.setting);
                let Some((other, value)) = first.get(&key) else {
                    first.insert(key, (d, a.value));
                    continue;
                };
                if *value == a.value || !reported.insert((a.object.clone(), a.setting, d.service.clone())) {
                    continue;
                }
                out.push(
                    Diagnostic::error(
                        Code::GitopsConflict,
                        format!(
                            "services `{}` ({}) and `{}` ({}) give {} different `{}`: {value} and {}",
                            other.service, other.file, d.service, d.file, a.object, a.setting, a.value
                        ),
                    )
                    .help(a.help),
                );
            }
        }
    }
    out
}

/// SVC0350 for the services that need the output folder's path in the
/// repository when it is not inside one.
fn unknown_paths(all: &[&Deployed], output_path: Option<&str>) -> Vec<Diagnostic> {
    if output_path.is_some() {
        return Vec::new();
    }
    all.iter()
        .filter(|d| d.environments.iter().any(|e| e.gitops.path.is_none()))
        .map(|d| {
            Diagnostic::error(
                Code::GitopsIncomplete,
                format!("the output folder is not inside a git repository, so svcc cannot tell the engine where `{}` is", d.service),
            )
            .help("add `path \"deploy\"` to the `gitops` block: the output folder's path from the root of the repository the engine reads")
        })
        .collect()
}

/// SVC0501 for a generated object its schema refuses (a bug in svcc).
fn validate(objects: &[Shared]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for o in objects {
        for v in crate::validate::violations(&o.value) {
            out.push(
                Diagnostic::error(
                    Code::SchemaViolation,
                    format!("generated {} `{}` is invalid: {}", o.kind.as_str(), o.name, v.message),
                )
                .help(format!(
                    "at {} (`svcc schema {}` prints the schema); this is a bug in svcc",
                    v.instance_path,
                    o.kind.as_str()
                )),
            );
        }
    }
    out
}
