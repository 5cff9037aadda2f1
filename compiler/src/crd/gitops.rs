//! The GitOps engines' custom resources svcc emits when a `gitops` block
//! asks for them (docs/gitops.md): Argo CD's `Application`,
//! `ApplicationSet` and `AppProject` (argoproj.io/v1alpha1) and Flux's
//! `Kustomization` (kustomize.toolkit.fluxcd.io/v1). Only the fields svcc
//! sets; the objects are validated against the complete upstream CRD
//! schemas, and `tests/schemas.rs` checks every field here exists upstream
//! with the same type.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::Serialize;

/// argoproj.io/v1alpha1 Application: one service in one environment.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ApplicationSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    pub project: String,
    pub source: ApplicationSource,
    pub destination: ApplicationDestination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
}

/// Where the manifests are: a folder of a git repository at a revision.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ApplicationSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    #[serde(rename = "targetRevision")]
    pub target_revision: String,
    pub path: String,
}

/// A cluster (by the name Argo CD knows it by) and a namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct ApplicationDestination {
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// `None`: synced by hand (or by the CLI), never on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automated: Option<AutomatedSync>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedSync {
    pub prune: bool,
    pub self_heal: bool,
}

/// argoproj.io/v1alpha1 ApplicationSet: one Application per element of
/// its list generator, from one template.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSet {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ApplicationSetSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSpec {
    pub go_template: bool,
    pub go_template_options: Vec<String>,
    pub generators: Vec<Generator>,
    pub template: ApplicationTemplate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<ApplicationSetSyncPolicy>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Generator {
    pub list: ListGenerator,
}

/// The parameters of each Application, as strings.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ListGenerator {
    pub elements: Vec<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ApplicationTemplate {
    pub metadata: ApplicationTemplateMeta,
    pub spec: ApplicationSpec,
}

/// Upstream allows only these fields in a template's metadata.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ApplicationTemplateMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSyncPolicy {
    pub preserve_resources_on_deletion: bool,
}

/// argoproj.io/v1alpha1 AppProject: what its Applications may deploy,
/// from where, to where.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppProject {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: AppProjectSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    pub description: String,
    pub source_repos: Vec<String>,
    pub destinations: Vec<ApplicationDestination>,
    pub cluster_resource_whitelist: Vec<GroupKind>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

/// kustomize.toolkit.fluxcd.io/v1 Kustomization: Flux applies a folder of
/// a source (a kustomize root) and keeps it applied.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: KustomizationSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    pub interval: String,
    pub path: String,
    pub prune: bool,
    pub wait: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    pub source_ref: SourceReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SourceReference {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A remote cluster: the Secret (beside the Kustomization) holding its kubeconfig.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeConfigReference {
    pub secret_ref: SecretName,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SecretName {
    pub name: String,
}
