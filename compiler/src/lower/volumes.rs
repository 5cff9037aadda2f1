//! `volumes`: the pod's volumes and the container's mounts of them.

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, KeyToPath, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::model::VolumeSource;
use crate::plan::{Plan, PlanContainer, PlanVolume};

/// A container's mounts: scratch space writable, the rest read-only.
pub(super) fn mounts(c: &PlanContainer) -> Vec<VolumeMount> {
    c.volumes
        .iter()
        .map(|v| VolumeMount {
            name: v.name.clone(),
            mount_path: v.path.clone(),
            read_only: v.read_only.or(if v.source == VolumeSource::Scratch { None } else { Some(true) }),
            ..VolumeMount::default()
        })
        .collect()
}

/// Every volume of the pod, each once, in the order the containers
/// declare them (a container shares a volume by naming it).
fn pod_volumes(p: &Plan) -> Vec<&PlanVolume> {
    let mut out: Vec<&PlanVolume> = Vec::new();
    for v in std::iter::once(&p.container).chain(&p.containers).flat_map(|c| &c.volumes) {
        if !out.iter().any(|o| o.name == v.name) {
            out.push(v);
        }
    }
    out
}

/// The pod's volumes.
pub(super) fn volumes(p: &Plan) -> Vec<Volume> {
    pod_volumes(p)
        .into_iter()
        .map(|v| {
            let mut vol = Volume { name: v.name.clone(), ..Volume::default() };
            match &v.source {
                VolumeSource::Scratch => {
                    vol.empty_dir = Some(EmptyDirVolumeSource {
                        medium: v.memory.then(|| "Memory".to_string()),
                        size_limit: v.size_limit.clone().map(Quantity),
                    });
                }
                VolumeSource::Secret(s) => {
                    vol.secret = Some(SecretVolumeSource {
                        secret_name: Some(s.clone()),
                        items: items(v),
                        optional: v.optional.then_some(true),
                        ..SecretVolumeSource::default()
                    });
                }
                VolumeSource::ConfigMap(cm) => {
                    vol.config_map = Some(ConfigMapVolumeSource {
                        name: cm.clone(),
                        items: items(v),
                        optional: v.optional.then_some(true),
                        ..ConfigMapVolumeSource::default()
                    });
                }
            }
            vol
        })
        .collect()
}

/// The keys a secret or config-map volume mounts; `None`: every key.
fn items(v: &PlanVolume) -> Option<Vec<KeyToPath>> {
    super::non_empty(
        v.items.iter().map(|(key, path)| KeyToPath { key: key.clone(), path: path.clone(), mode: None }).collect(),
    )
}
