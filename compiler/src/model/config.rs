//! `config-map NAME { … }` and `external-secret NAME { … }`: the
//! configuration a service's containers read, generated with it
//! (docs/language.md#config-map).

use super::{Duration, Map};
use crate::source::{Span, Spanned};

/// A ConfigMap from files and literals, named `NAME-<hash of its data>`
/// unless `hash=#false`.
#[derive(Clone, Debug)]
pub struct ConfigMap {
    pub name: Spanned<String>,
    /// The `config-map` token.
    pub node: Span,
    pub hash: Option<Spanned<bool>>,
    /// Its keys, in order; an environment's entry replaces the one below.
    pub entries: Map<ConfigEntry>,
}

#[derive(Clone, Debug)]
pub struct ConfigEntry {
    pub key: Spanned<String>,
    pub source: ConfigSource,
}

#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// `literal KEY "value"`.
    Literal(Spanned<String>),
    /// `file "config/app.yaml" key=…`: read through the repository
    /// (`crate::repo`) after composition; `content` is `None` until then,
    /// or when the file could not be read (already reported).
    File { path: Spanned<String>, content: Option<Vec<u8>> },
}

/// An external-secrets.io/v1 ExternalSecret: the Secret `NAME`, kept in
/// sync with a secret store by the External Secrets Operator.
#[derive(Clone, Debug)]
pub struct ExternalSecret {
    pub name: Spanned<String>,
    pub node: Span,
    /// `store="vault"`: the SecretStore (or ClusterSecretStore) it reads.
    pub store: Option<Spanned<String>>,
    /// `store-kind="ClusterSecretStore"` (default `SecretStore`).
    pub store_kind: Option<Spanned<String>>,
    /// `refresh="1h"`: how often the operator reads the store again.
    pub refresh: Option<Spanned<Duration>>,
    /// `key NAME remote="…" property="…" version="…"`, by secret key.
    pub keys: Map<RemoteKey>,
    /// `extract "prod/app"`: every property of a remote secret, as keys.
    pub extract: Vec<Spanned<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RemoteKey {
    pub key: Spanned<String>,
    pub remote: Spanned<String>,
    pub property: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
}
