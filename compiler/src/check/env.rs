//! `env { … }` and `env-from`: the container's environment variables, in
//! source order. Both merge in `merge::layer` (`env` key by key, `env-from`
//! by source).

use crate::model::{EnvFrom, EnvFromKind, EnvValue, EnvVar, Map};
use crate::plan::{PlanEnv, PlanEnvFrom, PlanEnvValue};

pub(super) fn resolve(env: &Map<EnvVar>) -> Vec<PlanEnv> {
    env.values()
        .map(|v| PlanEnv {
            name: v.name.value.clone(),
            span: v.name.span,
            value: match &v.value {
                EnvValue::Literal(s) => PlanEnvValue::Literal(s.value.clone()),
                EnvValue::Secret { name, key, optional } => {
                    PlanEnvValue::Secret { name: name.value.clone(), key: key.value.clone(), optional: *optional }
                }
                EnvValue::ConfigMap { name, key, optional } => {
                    PlanEnvValue::ConfigMap { name: name.value.clone(), key: key.value.clone(), optional: *optional }
                }
                EnvValue::Field(f) => PlanEnvValue::Field(f.value.clone()),
            },
        })
        .collect()
}

pub(super) fn resolve_from(env_from: &Map<EnvFrom>) -> Vec<PlanEnvFrom> {
    env_from
        .values()
        .map(|f| PlanEnvFrom {
            secret: f.kind == EnvFromKind::Secret,
            name: f.name.value.clone(),
            prefix: f.prefix.as_ref().map(|p| p.value.clone()),
            optional: f.optional,
        })
        .collect()
}
