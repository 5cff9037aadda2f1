//! `env` and `env-from`: the container's environment.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    SecretEnvSource, SecretKeySelector,
};

use crate::plan::{PlanContainer, PlanEnvValue};
use crate::source::Span;

/// A container's variables (at the JSON pointer `at`), each recorded at
/// its `env` line.
pub(super) fn env(c: &PlanContainer, at: &str, prov: &mut BTreeMap<String, Span>) -> Vec<EnvVar> {
    c.env
        .iter()
        .enumerate()
        .map(|(i, e)| {
            prov.insert(format!("{at}/env/{i}"), e.span);
            let value = match &e.value {
                PlanEnvValue::Literal(v) => Some(v.clone()),
                _ => None,
            };
            EnvVar { name: e.name.clone(), value, value_from: value_from(&e.value) }
        })
        .collect()
}

/// Where a variable that is not a literal reads its value.
fn value_from(v: &PlanEnvValue) -> Option<EnvVarSource> {
    let optional = |o: bool| if o { Some(true) } else { None };
    Some(match v {
        PlanEnvValue::Literal(_) => return None,
        PlanEnvValue::Secret { name, key, optional: o } => EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: name.clone(), key: key.clone(), optional: optional(*o) }),
            ..EnvVarSource::default()
        },
        PlanEnvValue::ConfigMap { name, key, optional: o } => EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: name.clone(),
                key: key.clone(),
                optional: optional(*o),
            }),
            ..EnvVarSource::default()
        },
        PlanEnvValue::Field(f) => EnvVarSource {
            field_ref: Some(ObjectFieldSelector { field_path: f.clone(), api_version: None }),
            ..EnvVarSource::default()
        },
    })
}

/// A container's `envFrom`: whole Secrets and ConfigMaps.
pub(super) fn env_from(c: &PlanContainer) -> Vec<EnvFromSource> {
    c.env_from
        .iter()
        .map(|f| {
            let optional = if f.optional { Some(true) } else { None };
            EnvFromSource {
                prefix: f.prefix.clone(),
                secret_ref: f.secret.then(|| SecretEnvSource { name: f.name.clone(), optional }),
                config_map_ref: (!f.secret).then(|| ConfigMapEnvSource { name: f.name.clone(), optional }),
            }
        })
        .collect()
}
