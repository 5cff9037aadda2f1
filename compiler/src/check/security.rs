//! `security { … }` resolved into the pod's security context, with its
//! defaults (`docs/language.md#security`). What a setting weakens is checked
//! on the generated pod template, against the same rules as patches
//! (`crate::harden`), so this only resolves values and the exceptions.

use super::defaults;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Security;
use crate::plan::PlanSecurity;

pub(super) fn resolve(s: &Security, diags: &mut Diagnostics) -> PlanSecurity {
    let run_as_non_root = s.run_as_non_root.as_ref().is_none_or(|v| v.value);
    if let Some(u) = &s.run_as_user
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
        run_as_user: s.run_as_user.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        run_as_group: s.run_as_group.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        fs_group: s.fs_group.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        run_as_non_root,
        read_only_root_filesystem: s.read_only_root_filesystem.as_ref().is_none_or(|v| v.value),
        allow_privilege_escalation: s.allow_privilege_escalation.as_ref().is_some_and(|v| v.value),
        add_capabilities: s.add_capabilities.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
        seccomp: s.seccomp.as_ref().map_or("RuntimeDefault".to_string(), |v| v.value.clone()),
        exceptions: s.allow.values().map(|e| (e.name.value.clone(), (e.reason.value.clone(), e.name.span))).collect(),
    }
}

/// The pod annotations that record the accepted exceptions, one per rule:
/// `svcc.dev/allow-host-network: node exporter reads host interfaces`.
pub(super) fn annotations(s: &PlanSecurity) -> impl Iterator<Item = (String, String)> + '_ {
    s.exceptions
        .iter()
        .map(|(name, (reason, _))| (format!("{}{name}", crate::harden::EXCEPTION_ANNOTATION), reason.clone()))
}
