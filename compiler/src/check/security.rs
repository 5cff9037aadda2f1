//! `security { … }` and `service-account`: the pod's security context with
//! its defaults (`docs/language.md#security`) and the identity it runs as.
//! What a setting weakens is checked on the generated pod template, against
//! the same rules as patches (`crate::harden`), so this only resolves values
//! and the exceptions.

use super::merge::{Merger, merge_map};
use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{IMAGE_ID, Security, ServiceAccount};
use crate::plan::{PlanSecurity, PlanServiceAccount};
use crate::settings as s;
use crate::source::Spanned;

/// Each child replaces; `allow` exceptions merge by rule name.
pub(super) fn merge(c: &mut Merger<'_>, base: &Security, over: &Security) -> Security {
    let Security {
        run_as_user: b_run_as_user,
        run_as_group: b_run_as_group,
        fs_group: b_fs_group,
        run_as_non_root: b_run_as_non_root,
        read_only_root_filesystem: b_read_only_root_filesystem,
        allow_privilege_escalation: b_allow_privilege_escalation,
        add_capabilities: b_add_capabilities,
        seccomp: b_seccomp,
        per_container: b_per_container,
        allow: b_allow,
    } = base;
    let Security {
        run_as_user,
        run_as_group,
        fs_group,
        run_as_non_root,
        read_only_root_filesystem,
        allow_privilege_escalation,
        add_capabilities,
        seccomp,
        per_container,
        allow,
    } = over;
    Security {
        run_as_user: c.pick(&s::RUN_AS_USER, run_as_user, b_run_as_user),
        run_as_group: c.pick(&s::RUN_AS_GROUP, run_as_group, b_run_as_group),
        fs_group: c.pick(&s::FS_GROUP, fs_group, b_fs_group),
        run_as_non_root: c.pick(&s::RUN_AS_NON_ROOT, run_as_non_root, b_run_as_non_root),
        read_only_root_filesystem: c.pick(
            &s::READ_ONLY_ROOT_FILESYSTEM,
            read_only_root_filesystem,
            b_read_only_root_filesystem,
        ),
        allow_privilege_escalation: c.pick(
            &s::ALLOW_PRIVILEGE_ESCALATION,
            allow_privilege_escalation,
            b_allow_privilege_escalation,
        ),
        add_capabilities: c.pick(&s::ADD_CAPABILITIES, add_capabilities, b_add_capabilities),
        seccomp: c.pick(&s::SECCOMP, seccomp, b_seccomp),
        per_container: c.pick(&s::PER_CONTAINER, per_container, b_per_container),
        allow: c.map(&s::SECURITY_ALLOW, b_allow, allow),
    }
}

/// The name, `create=` and `automount-token=` replace; annotations merge
/// key by key.
pub(super) fn merge_service_account(
    c: &mut Merger<'_>,
    base: &Option<ServiceAccount>,
    over: &Option<ServiceAccount>,
) -> Option<ServiceAccount> {
    let (Some(b), Some(o)) = (base, over) else {
        return over.clone().or_else(|| base.clone());
    };
    let ServiceAccount { node: _, name: b_name, create: b_create, automount: b_automount, annotations: b_annotations } =
        b;
    let ServiceAccount { node, name, create, automount, annotations } = o;
    Some(ServiceAccount {
        node: *node,
        name: c.pick(&s::SERVICE_ACCOUNT_NAME, name, b_name),
        create: c.pick(&s::SERVICE_ACCOUNT_CREATE, create, b_create),
        automount: c.pick(&s::SERVICE_ACCOUNT_AUTOMOUNT_TOKEN, automount, b_automount),
        annotations: merge_map(b_annotations, annotations),
    })
}

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
    let image = |v: &Option<Spanned<i64>>| v.as_ref().is_some_and(|v| v.value == IMAGE_ID);
    let id = |v: &Option<Spanned<i64>>| v.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value).max(0);
    let (user_from_image, group_from_image) = (image(&sec.run_as_user), image(&sec.run_as_group));
    PlanSecurity {
        run_as_user: if user_from_image { defaults::RUN_AS_ID } else { id(&sec.run_as_user) },
        run_as_group: if group_from_image { defaults::RUN_AS_ID } else { id(&sec.run_as_group) },
        user_from_image,
        group_from_image,
        fs_group: sec.fs_group.as_ref().map_or(defaults::RUN_AS_ID, |v| v.value),
        run_as_non_root,
        read_only_root_filesystem: sec.read_only_root_filesystem.as_ref().is_none_or(|v| v.value),
        allow_privilege_escalation: sec.allow_privilege_escalation.as_ref().is_some_and(|v| v.value),
        add_capabilities: sec.add_capabilities.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
        seccomp: sec.seccomp.as_ref().map_or("RuntimeDefault".to_string(), |v| v.value.clone()),
        per_container: sec.per_container.as_ref().is_some_and(|v| v.value),
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
