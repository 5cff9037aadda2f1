//! `security { … }` and `service-account`: the pod's security context with
//! its defaults (`docs/language.md#security`) and the identity it runs as.
//! What a setting weakens is checked on the generated pod template, against
//! the same rules as patches (`crate::harden`), so this only resolves values
//! and the exceptions.

use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Security, ServiceAccount};
use crate::plan::{PlanSecurity, PlanServiceAccount};

/// The account pods run as: the service's own (created) by default, with
/// no API token mounted.
pub(super) fn service_account(cx: &Cx<'_>, sa: Option<&ServiceAccount>) -> PlanServiceAccount {
    PlanServiceAccount {
        name: sa.and_then(|s| s.name.as_ref()).map_or(cx.service.to_string(), |n| n.value.clone()),
        create: sa.and_then(|s| s.create.as_ref()).is_none_or(|c| c.value),
        automount: sa.and_then(|s| s.automount.as_ref()).is_some_and(|c| c.value),
        annotations: sa
            .map(|s| s.annotations.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect())
            .unwrap_or_default(),
    }
}

pub(super) fn resolve(sec: &Security, diags: &mut Diagnostics) -> PlanSecurity {
    let run_as_non_root = sec.run_as_non_root.as_ref().is_none_or(|v| v.value);
    if let Some(u) = &sec.run_as_user
        && u.value == 0
        && run_as_non_root
    {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "`run-as-user 0` is root, and the pod must run as non-root")
                .at(u.span, "user 0 is root")
                .help("use an unprivileged id such as 10001, or (not recommended) set `run-as-non-root #false`"),
        );
    }
    PlanSecurity {
        run_as_user: sec.run_as_user.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        run_as_group: sec.run_as_group.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        fs_group: sec.fs_group.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        run_as_non_root,
        read_only_root_filesystem: sec.read_only_root_filesystem.as_ref().is_none_or(|v| v.value),
        allow_privilege_escalation: sec.allow_privilege_escalation.as_ref().is_some_and(|v| v.value),
        add_capabilities: sec.add_capabilities.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
        seccomp: sec.seccomp.as_ref().map_or("RuntimeDefault".to_string(), |v| v.value.clone()),
        exceptions: sec.allow.values().map(|e| (e.name.value.clone(), (e.reason.value.clone(), e.name.span))).collect(),
    }
}

/// The pod annotations that record the accepted exceptions, one per rule:
/// `svcc.dev/allow-host-network: node exporter reads host interfaces`.
pub(super) fn annotations(s: &PlanSecurity) -> impl Iterator<Item = (String, String)> + '_ {
    s.exceptions
        .iter()
        .map(|(name, (reason, _))| (format!("{}{name}", crate::harden::EXCEPTION_ANNOTATION), reason.clone()))
}
