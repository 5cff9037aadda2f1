//! external-secrets.io/v1 ExternalSecret: the fields svcc sets.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::Serialize;

/// An ExternalSecret: the External Secrets Operator keeps the Secret
/// `spec.target.name` in sync with a secret store.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ExternalSecretSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    pub secret_store_ref: SecretStoreRef,
    /// A Go duration (`1h`).
    pub refresh_interval: String,
    pub target: ExternalSecretTarget,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<ExternalSecretData>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_from: Option<Vec<ExternalSecretDataFrom>>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SecretStoreRef {
    pub name: String,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    pub name: String,
    /// `Owner`: the Secret is the ExternalSecret's, deleted with it.
    pub creation_policy: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RemoteRef {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExternalSecretDataFrom {
    pub extract: RemoteRef,
}
