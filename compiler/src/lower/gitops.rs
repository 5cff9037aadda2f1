//! The objects of the `gitops` block: Namespaces, Argo CD's
//! ApplicationSet, Applications and AppProjects, Flux's Kustomizations.
//! They span services, so `crate::gitops` calls these builders once every
//! service compiled, with what each environment resolved
//! ([`crate::plan::PlanGitops`]); each returns the object as JSON with its
//! kind and name.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::Kind;
use super::kinds::OfKind;
use crate::crd::{
    AppProject, AppProjectSpec, Application, ApplicationDestination, ApplicationSet, ApplicationSetSpec,
    ApplicationSetSyncPolicy, ApplicationSource, ApplicationSpec, ApplicationTemplate, ApplicationTemplateMeta,
    AutomatedSync, Generator, GroupKind, KubeConfigReference, Kustomization, KustomizationSpec, ListGenerator,
    SecretName, SourceReference, SyncPolicy,
};

/// One generated object: kind, name and value.
#[derive(Clone, Debug)]
pub struct Shared {
    pub kind: Kind,
    pub name: String,
    pub value: serde_json::Value,
}

impl Shared {
    /// The file name in its folder, as the environment folders name theirs.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.file_stem(), self.name)
    }
}

fn shared<T: Serialize + OfKind>(name: &str, t: &T) -> Shared {
    Shared { kind: T::KIND, name: name.to_string(), value: serde_json::to_value(t).unwrap_or_default() }
}

/// The label every object svcc generates carries.
fn managed_by() -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "svcc".to_string())])
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(managed_by()),
        ..ObjectMeta::default()
    }
}

/// Namespaces that every cluster has: never generated (an engine that
/// prunes would otherwise own, and could delete, them).
pub const BUILT_IN_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// An environment's namespace. Neither engine ever deletes it: deleting a
/// namespace deletes everything in it, hand-made Secrets included.
pub fn namespace(name: &str) -> Shared {
    let mut m = meta(name, None);
    m.annotations = Some(BTreeMap::from([
        ("argocd.argoproj.io/sync-options".to_string(), "Prune=false,Delete=false".to_string()),
        ("kustomize.toolkit.fluxcd.io/prune".to_string(), "disabled".to_string()),
    ]));
    shared(name, &Namespace { metadata: m, ..Namespace::default() })
}

/// Argo CD's sync policy: automated (with prune and self-heal) or by hand;
/// the destination namespace is created if missing, then the spec's
/// `sync-options` (checked against Argo CD's list when decoded).
pub fn sync_policy(automated: bool, prune: bool, self_heal: bool, options: &[String]) -> SyncPolicy {
    let mut sync_options = vec!["CreateNamespace=true".to_string()];
    sync_options.extend(options.iter().cloned());
    SyncPolicy { automated: automated.then_some(AutomatedSync { prune, self_heal }), sync_options }
}

/// What one Argo CD Application deploys: a service's environment.
#[derive(Clone, Debug)]
pub struct AppParams {
    pub service: String,
    pub environment: String,
    pub repo: String,
    pub revision: String,
    /// The environment folder's path in the repository.
    pub path: String,
    pub project: String,
    pub destination: ApplicationDestination,
}

/// The Application of one service's environment, `SERVICE-ENVIRONMENT`.
/// With `prune`, deleting it deletes what it deployed (the finalizer).
pub fn application(p: &AppParams, namespace: &str, sync: SyncPolicy, prune: bool) -> Shared {
    let name = format!("{}-{}", p.service, p.environment);
    let mut m = meta(&name, Some(namespace));
    if prune {
        m.finalizers = Some(vec!["resources-finalizer.argocd.argoproj.io".to_string()]);
    }
    let spec = ApplicationSpec {
        project: p.project.clone(),
        source: ApplicationSource {
            repo_url: p.repo.clone(),
            target_revision: p.revision.clone(),
            path: p.path.clone(),
        },
        destination: p.destination.clone(),
        sync_policy: Some(sync),
    };
    shared(
        &name,
        &Application {
            api_version: Kind::Application.api_version().into(),
            kind: "Application".into(),
            metadata: m,
            spec,
        },
    )
}

/// One ApplicationSet for `apps`: a list generator with one element per
/// Application and a Go template. Parameters that every element shares
/// (repository, revision, project) are written into the template, unless
/// they hold a brace: the controller executes the template, so spec text
/// reaches it only as an element's value, which it substitutes as data.
/// (The decoder refuses braces in these values; this is the encoder's
/// side of it.)
pub fn application_set(name: &str, namespace: &str, apps: &[AppParams], sync: SyncPolicy, prune: bool) -> Shared {
    let same = |f: fn(&AppParams) -> &str| -> Option<String> {
        let first = f(apps.first()?);
        let literal = !first.contains(['{', '}']);
        (literal && apps.iter().all(|a| f(a) == first)).then(|| first.to_string())
    };
    let repo = same(|a| &a.repo);
    let revision = same(|a| &a.revision);
    let project = same(|a| &a.project);
    let elements = apps
        .iter()
        .map(|a| {
            let mut e = BTreeMap::from([
                ("service".to_string(), a.service.clone()),
                ("environment".to_string(), a.environment.clone()),
                ("path".to_string(), a.path.clone()),
                ("cluster".to_string(), a.destination.name.clone()),
                ("namespace".to_string(), a.destination.namespace.clone()),
            ]);
            for (key, shared, value) in
                [("repoURL", &repo, &a.repo), ("revision", &revision, &a.revision), ("project", &project, &a.project)]
            {
                if shared.is_none() {
                    e.insert(key.to_string(), value.clone());
                }
            }
            e
        })
        .collect();
    let param = |shared: Option<String>, key: &str| shared.unwrap_or_else(|| format!("{{{{.{key}}}}}"));
    let template = ApplicationTemplate {
        metadata: ApplicationTemplateMeta { name: "{{.service}}-{{.environment}}".to_string(), labels: managed_by() },
        spec: ApplicationSpec {
            project: param(project, "project"),
            source: ApplicationSource {
                repo_url: param(repo, "repoURL"),
                target_revision: param(revision, "revision"),
                path: "{{.path}}".to_string(),
            },
            destination: ApplicationDestination {
                name: "{{.cluster}}".to_string(),
                namespace: "{{.namespace}}".to_string(),
            },
            sync_policy: Some(sync),
        },
    };
    let spec = ApplicationSetSpec {
        go_template: true,
        go_template_options: vec!["missingkey=error".to_string()],
        generators: vec![Generator { list: ListGenerator { elements } }],
        template,
        sync_policy: Some(ApplicationSetSyncPolicy { preserve_resources_on_deletion: !prune }),
    };
    let set = ApplicationSet {
        api_version: Kind::ApplicationSet.api_version().into(),
        kind: "ApplicationSet".into(),
        metadata: meta(name, Some(namespace)),
        spec,
    };
    shared(name, &set)
}

/// An AppProject allowing exactly what its Applications deploy: their
/// repositories and destinations, and the Namespaces Argo CD creates.
pub fn app_project(
    name: &str,
    namespace: &str,
    repos: Vec<String>,
    destinations: Vec<ApplicationDestination>,
) -> Shared {
    let spec = AppProjectSpec {
        description: "Services deployed by svcc".to_string(),
        source_repos: repos,
        destinations,
        cluster_resource_whitelist: vec![GroupKind { group: String::new(), kind: "Namespace".to_string() }],
    };
    let project = AppProject {
        api_version: Kind::AppProject.api_version().into(),
        kind: "AppProject".into(),
        metadata: meta(name, Some(namespace)),
        spec,
    };
    shared(name, &project)
}

/// What one Flux Kustomization applies, and how.
#[derive(Clone, Debug)]
pub struct FluxParams {
    pub name: String,
    pub namespace: String,
    /// The environment's root folder, from the source's root (`./deploy/_env.production`).
    pub path: String,
    pub source_kind: String,
    pub source: String,
    pub source_namespace: Option<String>,
    pub interval: String,
    pub prune: bool,
    pub wait: bool,
    pub timeout: Option<String>,
    /// The Secret holding a remote cluster's kubeconfig.
    pub kubeconfig: Option<String>,
}

/// The Flux Kustomization that applies an environment's root folder.
pub fn flux_kustomization(p: &FluxParams) -> Shared {
    let spec = KustomizationSpec {
        interval: p.interval.clone(),
        path: p.path.clone(),
        prune: p.prune,
        wait: p.wait,
        timeout: p.timeout.clone(),
        source_ref: SourceReference {
            kind: p.source_kind.clone(),
            name: p.source.clone(),
            namespace: p.source_namespace.clone(),
        },
        kube_config: p.kubeconfig.as_ref().map(|s| KubeConfigReference { secret_ref: SecretName { name: s.clone() } }),
    };
    let k = Kustomization {
        api_version: Kind::Kustomization.api_version().into(),
        kind: "Kustomization".into(),
        metadata: meta(&p.name, Some(&p.namespace)),
        spec,
    };
    shared(&p.name, &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(service: &str, repo: &str) -> AppParams {
        AppParams {
            service: service.into(),
            environment: "production".into(),
            repo: repo.into(),
            revision: "main".into(),
            path: format!("deploy/{service}/production"),
            project: "default".into(),
            destination: ApplicationDestination { name: "in-cluster".into(), namespace: "production".into() },
        }
    }

    /// Spec text reaches the ApplicationSet's Go template only as an
    /// element's value, never as template text.
    #[test]
    fn braces_stay_out_of_the_template() {
        let sync = sync_policy(true, true, true, &[]);
        let plain = application_set("svcc", "argocd", &[app("a", "https://x.example/d.git")], sync.clone(), true);
        assert_eq!(plain.value["spec"]["template"]["spec"]["source"]["repoURL"], "https://x.example/d.git");
        let hostile = "https://x.example/{{.path}}";
        let set = application_set("svcc", "argocd", &[app("a", hostile), app("b", hostile)], sync, true);
        let template = serde_json::to_string(&set.value["spec"]["template"]).unwrap();
        assert!(!template.contains("x.example"), "{template}");
        assert_eq!(set.value["spec"]["template"]["spec"]["source"]["repoURL"], "{{.repoURL}}");
        let elements = &set.value["spec"]["generators"][0]["list"]["elements"];
        assert_eq!(elements[0]["repoURL"], hostile);
        assert_eq!(elements[1]["repoURL"], hostile);
    }
}
