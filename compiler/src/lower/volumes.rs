//! `volumes`: the pod's volumes and the container's mounts of them.

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::model::VolumeSource;
use crate::plan::Plan;

/// The container's mounts: scratch space writable, the rest read-only.
pub(super) fn mounts(p: &Plan) -> Vec<VolumeMount> {
    p.volumes
        .iter()
        .map(|v| VolumeMount {
            name: v.name.clone(),
            mount_path: v.path.clone(),
            read_only: if v.source == VolumeSource::Scratch { None } else { Some(true) },
            ..VolumeMount::default()
        })
        .collect()
}

/// The pod's volumes.
pub(super) fn volumes(p: &Plan) -> Vec<Volume> {
    p.volumes
        .iter()
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
                    vol.secret =
                        Some(SecretVolumeSource { secret_name: Some(s.clone()), ..SecretVolumeSource::default() });
                }
                VolumeSource::ConfigMap(cm) => {
                    vol.config_map =
                        Some(ConfigMapVolumeSource { name: cm.clone(), ..ConfigMapVolumeSource::default() });
                }
            }
            vol
        })
        .collect()
}
