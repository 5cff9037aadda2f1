//! `config-map` and `external-secret`: a ConfigMap (named with the hash
//! of its data by `check::config`) and an ExternalSecret.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;

use super::{Object, meta, object};
use crate::crd::{
    ExternalSecret, ExternalSecretData, ExternalSecretDataFrom, ExternalSecretSpec, ExternalSecretTarget, RemoteRef,
    SecretStoreRef,
};
use crate::lower::Kind;
use crate::plan::{Plan, PlanConfigMap, PlanExternalSecret};

/// The ConfigMaps, then the ExternalSecrets, in declaration order.
pub(super) fn lower(p: &Plan) -> Vec<Object> {
    let mut out: Vec<Object> = p.config_maps.iter().map(|c| config_map(p, c)).collect();
    out.extend(p.external_secrets.iter().map(|e| external_secret(p, e)));
    out
}

fn config_map(p: &Plan, c: &PlanConfigMap) -> Object {
    let cm = ConfigMap {
        metadata: meta(p, &c.name),
        data: (!c.data.is_empty()).then(|| c.data.clone()),
        binary_data: (!c.binary.is_empty())
            .then(|| c.binary.iter().map(|(k, v)| (k.clone(), ByteString(v.clone()))).collect()),
        ..ConfigMap::default()
    };
    let mut o = object(&c.name, p, &cm, BTreeMap::new());
    o.origin = c.span;
    o
}

fn external_secret(p: &Plan, e: &PlanExternalSecret) -> Object {
    let data: Vec<ExternalSecretData> = e
        .keys
        .iter()
        .map(|k| ExternalSecretData {
            secret_key: k.key.clone(),
            remote_ref: RemoteRef { key: k.remote.clone(), property: k.property.clone(), version: k.version.clone() },
        })
        .collect();
    let data_from: Vec<ExternalSecretDataFrom> = e
        .extract
        .iter()
        .map(|r| ExternalSecretDataFrom { extract: RemoteRef { key: r.clone(), property: None, version: None } })
        .collect();
    let es = ExternalSecret {
        api_version: Kind::ExternalSecret.api_version().to_string(),
        kind: Kind::ExternalSecret.as_str().to_string(),
        metadata: meta(p, &e.name),
        spec: ExternalSecretSpec {
            secret_store_ref: SecretStoreRef { name: e.store.clone(), kind: e.store_kind.clone() },
            refresh_interval: e.refresh.clone(),
            target: ExternalSecretTarget { name: e.name.clone(), creation_policy: "Owner".to_string() },
            data: (!data.is_empty()).then_some(data),
            data_from: (!data_from.is_empty()).then_some(data_from),
        },
    };
    let mut o = object(&e.name, p, &es, BTreeMap::new());
    o.origin = e.span;
    o
}
