//! `node-selector` and `tolerations`: where pods may be scheduled. Both
//! merge in `merge::layer` (`node-selector` key by key, `tolerations` by key
//! and effect).

use std::collections::BTreeMap;

use crate::model::{Map, Toleration};
use crate::plan::PlanToleration;
use crate::source::Spanned;

pub(super) fn node_selector(m: &Map<Spanned<String>>) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()
}

pub(super) fn tolerations(t: &Map<Toleration>) -> Vec<PlanToleration> {
    t.values()
        .map(|t| PlanToleration {
            key: t.key.value.clone(),
            operator: t.operator.as_ref().map(|v| v.value.clone()),
            value: t.value.as_ref().map(|v| v.value.clone()),
            effect: t.effect.as_ref().map(|v| v.value.clone()),
            seconds: t.seconds.as_ref().map(|v| v.value),
        })
        .collect()
}
