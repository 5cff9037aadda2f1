//! `node-selector`, `tolerations`, `affinity` and `priority-class`: where
//! pods may be scheduled. `node-selector` and `tolerations` merge in
//! `merge::layer` (key by key; by key and effect).

use std::collections::BTreeMap;

use super::merge::{Merger, or};
use crate::model::{Map, Placement, Toleration};
use crate::plan::{PlanAffinity, PlanAnti, PlanToleration};
use crate::settings as s;
use crate::source::Spanned;

/// `affinity` is replaced as a whole, `priority-class` like any scalar.
pub(super) fn merge_placement(c: &mut Merger<'_>, base: &Placement, over: &Placement) -> Placement {
    let Placement { affinity: b_affinity, priority_class: b_priority_class } = base;
    let Placement { affinity, priority_class } = over;
    Placement {
        affinity: or(affinity, b_affinity),
        priority_class: c.pick(&s::PRIORITY_CLASS, priority_class, b_priority_class),
    }
}

/// The pods' affinity: node labels required or preferred, and the
/// anti-affinity presets on the service's own pods.
pub(super) fn affinity(p: &Placement) -> PlanAffinity {
    let Some(a) = &p.affinity else { return PlanAffinity::default() };
    let mut out = PlanAffinity::default();
    for n in &a.nodes {
        let values = n.values.iter().map(|v| v.value.clone()).collect();
        match &n.prefer {
            Some(w) => out.preferred_nodes.push((w.value, n.key.value.clone(), values)),
            None => out.required_nodes.push((n.key.value.clone(), values)),
        }
    }
    for anti in &a.anti {
        let key = match anti.topology.value.as_str() {
            "zone" => "topology.kubernetes.io/zone",
            _ => "kubernetes.io/hostname",
        };
        out.anti.push(PlanAnti {
            topology_key: key.to_string(),
            required: anti.required.as_ref().is_some_and(|r| r.value),
            weight: anti.prefer.as_ref().map_or(100, |w| w.value),
            labels: node_selector(&anti.labels),
        });
    }
    out
}

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
