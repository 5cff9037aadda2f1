//! `security` and `service-account`: the pod's and the container's
//! security contexts, and the ServiceAccount the pods run as.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Capabilities, PodSecurityContext, SeccompProfile, SecurityContext, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Object, meta, non_empty, object};
use crate::plan::Plan;

/// The pod's security context: non-root ids and the seccomp profile.
pub(super) fn pod_security_context(p: &Plan) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(p.security.run_as_non_root),
        run_as_user: (!p.security.user_from_image).then_some(p.security.run_as_user),
        run_as_group: (!p.security.group_from_image).then_some(p.security.run_as_group),
        fs_group: Some(p.security.fs_group),
        seccomp_profile: Some(SeccompProfile { type_: p.security.seccomp.clone(), localhost_profile: None }),
        ..PodSecurityContext::default()
    }
}

/// The container's security context: every capability dropped, no
/// privilege escalation, a read-only root filesystem (unless the spec says
/// otherwise). Only the service's own container (`main`) gets the
/// capabilities `add-capabilities` adds: a sidecar or init container keeps
/// none (least privilege), whatever the service needs.
pub(super) fn container_security_context(p: &Plan, main: bool) -> SecurityContext {
    let s = &p.security;
    // `per-container`: the pod's values again, for tools that read containers only.
    let each = s.per_container;
    SecurityContext {
        allow_privilege_escalation: Some(s.allow_privilege_escalation),
        read_only_root_filesystem: Some(s.read_only_root_filesystem),
        run_as_non_root: Some(s.run_as_non_root),
        run_as_user: (each && !s.user_from_image).then_some(s.run_as_user),
        run_as_group: (each && !s.group_from_image).then_some(s.run_as_group),
        seccomp_profile: each.then(|| SeccompProfile { type_: s.seccomp.clone(), localhost_profile: None }),
        privileged: each.then_some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            add: if main { non_empty(s.add_capabilities.clone()) } else { None },
        }),
        ..SecurityContext::default()
    }
}

/// The service's own ServiceAccount, unless the spec names an existing one.
pub(super) fn service_account(p: &Plan) -> Option<Object> {
    let sa = &p.service_account;
    if !sa.create {
        return None;
    }
    let account = ServiceAccount {
        metadata: ObjectMeta {
            annotations: if sa.annotations.is_empty() {
                meta(p, &sa.name).annotations
            } else {
                let mut a = p.annotations.clone();
                a.extend(sa.annotations.clone());
                Some(a)
            },
            ..meta(p, &sa.name)
        },
        automount_service_account_token: Some(sa.automount),
        ..ServiceAccount::default()
    };
    Some(object(&sa.name, p, &account, BTreeMap::new()))
}
