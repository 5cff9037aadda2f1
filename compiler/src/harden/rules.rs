//! The one table of hardening rules (`docs/security.md#hardening`), read by
//! both paths that can weaken a pod: the spec's `security { … }` settings
//! (checked in `check::security`, SVC0403) and patches (checked on the
//! patched objects, SVC0405).
//!
//! Each rule names a field of a pod template, the values that break it, the
//! Pod Security Standard level it belongs to (or svcc's own hardening, for
//! the two defaults beyond the standards), and the name `security { allow
//! NAME reason="…" }` takes to accept it deliberately.

use serde_json::Value;

use crate::validate::push_segment;

/// Whose rule a field breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The Pod Security Standard "baseline": known privilege escalations.
    Baseline,
    /// The Pod Security Standard "restricted": current pod hardening practice.
    Restricted,
    /// svcc's hardened defaults beyond the standards.
    Svcc,
}

impl Level {
    pub fn describe(self) -> &'static str {
        match self {
            Level::Baseline => "the Pod Security Standard \"baseline\"",
            Level::Restricted => "the Pod Security Standard \"restricted\"",
            Level::Svcc => "svcc's hardened defaults",
        }
    }
}

/// Where the field lives in a pod template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Under `spec.template.spec`.
    Pod,
    /// The pod template's annotations whose key starts with this prefix.
    PodAnnotations(&'static str),
    /// Under every container, init container and ephemeral container. When
    /// a container leaves the field unset, the pod-level field `fallback`
    /// (under `spec.template.spec`) applies, as in Kubernetes.
    Container { fallback: Option<&'static str> },
}

/// The values that break a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// `true`.
    True,
    /// `false`.
    False,
    /// The number 0 (root).
    Zero,
    /// A number other than 0.
    NonZero,
    /// A string outside these; an entry ending in `*` matches a prefix.
    Outside(&'static [&'static str]),
    /// A non-empty string.
    NonEmpty,
    /// Any value at all.
    Present,
    /// A list with an item outside these.
    ItemsOutside(&'static [&'static str]),
    /// A list without this item.
    Lacks(&'static str),
    /// An object with a key outside these.
    KeysOutside(&'static [&'static str]),
}

/// How the spec language writes a field, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// Nothing in the language writes it: only a patch can.
    None,
    /// A child of `security { … }`; weakening it there is SVC0403.
    Security(&'static str),
    /// Another documented setting (written like this), not a weakening there.
    Other(&'static str),
}

/// One hardening rule.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The name `security { allow NAME reason="…" }` takes.
    pub allow: &'static str,
    pub scope: Scope,
    /// The field below its scope, `/`-separated; `*` is every item of a
    /// list or every key of a map.
    pub field: &'static str,
    pub bad: Bad,
    /// Unset breaks the rule too (the standard requires an explicit value).
    pub required: bool,
    pub level: Level,
    /// The control's name in the Pod Security Standards.
    pub control: &'static str,
    /// The section of `docs/security.md` that explains it.
    pub anchor: &'static str,
    pub setting: Setting,
}

/// Capabilities the "baseline" standard lets a container add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SELINUX_TYPES: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const CONFINED: &[&str] = &["RuntimeDefault", "Localhost"];
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";
const RESTRICTED_VOLUMES: &[&str] = &[
    "name",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    // hostPath breaks "baseline", reported by its own rule.
    "hostPath",
];

const fn rule(allow: &'static str, scope: Scope, field: &'static str, bad: Bad, level: Level) -> Rule {
    let (control, anchor) = control_of(allow);
    Rule { allow, scope, field, bad, required: false, level, control, anchor, setting: Setting::None }
}

const fn control_of(allow: &str) -> (&'static str, &'static str) {
    match allow.as_bytes() {
        b"host-network" | b"host-pid" | b"host-ipc" => ("Host Namespaces", "host-namespaces"),
        b"host-process" => ("HostProcess", "hostprocess"),
        b"privileged" => ("Privileged Containers", "privileged-containers"),
        b"add-capabilities" | b"keep-capabilities" => ("Capabilities", "capabilities"),
        b"host-path" => ("HostPath Volumes", "hostpath-volumes"),
        b"host-port" => ("Host Ports", "host-ports"),
        b"apparmor-unconfined" => ("AppArmor", "apparmor"),
        b"selinux" => ("SELinux", "selinux"),
        b"unmasked-proc" => ("/proc Mount Type", "proc-mount-type"),
        b"seccomp-unconfined" => ("Seccomp", "seccomp"),
        b"unsafe-sysctls" => ("Sysctls", "sysctls"),
        b"volume-types" => ("Volume Types", "volume-types"),
        b"privilege-escalation" => ("Privilege Escalation", "privilege-escalation"),
        b"run-as-root" => ("Running as Non-root", "running-as-non-root"),
        b"writable-root-filesystem" => ("read-only root filesystem", "read-only-root-filesystem"),
        _ => ("service account token", "service-account-token"),
    }
}

const fn container(fallback: Option<&'static str>) -> Scope {
    Scope::Container { fallback }
}

const fn required(r: Rule) -> Rule {
    Rule { required: true, ..r }
}

const fn set_by(r: Rule, setting: Setting) -> Rule {
    Rule { setting, ..r }
}

use Bad::*;
use Level::*;
use Scope::{Pod, PodAnnotations};

/// Every rule, baseline before restricted, so that when both flag a value
/// the message names the weaker standard it breaks.
pub const RULES: &[Rule] = &[
    rule("host-network", Pod, "hostNetwork", True, Baseline),
    rule("host-pid", Pod, "hostPID", True, Baseline),
    rule("host-ipc", Pod, "hostIPC", True, Baseline),
    rule("host-process", Pod, "securityContext/windowsOptions/hostProcess", True, Baseline),
    rule("host-process", container(None), "securityContext/windowsOptions/hostProcess", True, Baseline),
    rule("privileged", container(None), "securityContext/privileged", True, Baseline),
    set_by(
        rule(
            "add-capabilities",
            container(None),
            "securityContext/capabilities/add",
            ItemsOutside(BASELINE_CAPABILITIES),
            Baseline,
        ),
        Setting::Security("add-capabilities"),
    ),
    rule("host-path", Pod, "volumes/*/hostPath", Present, Baseline),
    rule("host-port", container(None), "ports/*/hostPort", NonZero, Baseline),
    rule("apparmor-unconfined", Pod, "securityContext/appArmorProfile/type", Outside(CONFINED), Baseline),
    rule("apparmor-unconfined", container(None), "securityContext/appArmorProfile/type", Outside(CONFINED), Baseline),
    rule(
        "apparmor-unconfined",
        PodAnnotations(APPARMOR_ANNOTATION),
        "",
        Outside(&["runtime/default", "localhost/*"]),
        Baseline,
    ),
    rule("selinux", Pod, "securityContext/seLinuxOptions/type", Outside(SELINUX_TYPES), Baseline),
    rule("selinux", Pod, "securityContext/seLinuxOptions/user", NonEmpty, Baseline),
    rule("selinux", Pod, "securityContext/seLinuxOptions/role", NonEmpty, Baseline),
    rule("selinux", container(None), "securityContext/seLinuxOptions/type", Outside(SELINUX_TYPES), Baseline),
    rule("selinux", container(None), "securityContext/seLinuxOptions/user", NonEmpty, Baseline),
    rule("selinux", container(None), "securityContext/seLinuxOptions/role", NonEmpty, Baseline),
    rule("unmasked-proc", container(None), "securityContext/procMount", Outside(&["Default"]), Baseline),
    set_by(
        rule("seccomp-unconfined", Pod, "securityContext/seccompProfile/type", Outside(CONFINED), Baseline),
        Setting::Security("seccomp"),
    ),
    rule("seccomp-unconfined", container(None), "securityContext/seccompProfile/type", Outside(CONFINED), Baseline),
    rule("unsafe-sysctls", Pod, "securityContext/sysctls/*/name", Outside(SAFE_SYSCTLS), Baseline),
    // Restricted.
    rule("volume-types", Pod, "volumes/*", KeysOutside(RESTRICTED_VOLUMES), Restricted),
    set_by(
        required(rule(
            "privilege-escalation",
            container(None),
            "securityContext/allowPrivilegeEscalation",
            True,
            Restricted,
        )),
        Setting::Security("allow-privilege-escalation"),
    ),
    set_by(
        rule("run-as-root", Pod, "securityContext/runAsNonRoot", False, Restricted),
        Setting::Security("run-as-non-root"),
    ),
    set_by(
        required(rule(
            "run-as-root",
            container(Some("securityContext/runAsNonRoot")),
            "securityContext/runAsNonRoot",
            False,
            Restricted,
        )),
        Setting::Security("run-as-non-root"),
    ),
    set_by(rule("run-as-root", Pod, "securityContext/runAsUser", Zero, Restricted), Setting::Security("run-as-user")),
    rule("run-as-root", container(None), "securityContext/runAsUser", Zero, Restricted),
    required(rule(
        "seccomp-unconfined",
        container(Some("securityContext/seccompProfile/type")),
        "securityContext/seccompProfile/type",
        Outside(CONFINED),
        Restricted,
    )),
    required(rule("keep-capabilities", container(None), "securityContext/capabilities/drop", Lacks("ALL"), Restricted)),
    rule(
        "add-capabilities",
        container(None),
        "securityContext/capabilities/add",
        ItemsOutside(&["NET_BIND_SERVICE"]),
        Restricted,
    ),
    // svcc's own hardening.
    set_by(
        required(rule(
            "writable-root-filesystem",
            container(None),
            "securityContext/readOnlyRootFilesystem",
            False,
            Svcc,
        )),
        Setting::Security("read-only-root-filesystem"),
    ),
    set_by(
        rule("service-account-token", Pod, "automountServiceAccountToken", True, Svcc),
        Setting::Other("service-account automount-token=#true"),
    ),
];

/// The names `allow` takes, in table order, each once.
pub fn allow_names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in RULES {
        if !out.contains(&r.allow) {
            out.push(r.allow);
        }
    }
    out
}

impl Bad {
    /// The value a required field must hold, as shown in a message.
    pub fn wanted(self) -> String {
        match self {
            True => "false".into(),
            False => "true".into(),
            Lacks(item) => format!("[\"{item}\"]"),
            Outside(allowed) => format!("\"{}\"", allowed.first().copied().unwrap_or_default()),
            _ => "unset".into(),
        }
    }

    /// The offending part of `v` (as shown in a message), if it breaks the rule.
    pub fn offending(self, v: Option<&Value>, required: bool) -> Option<String> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return required.then(|| "unset".to_string());
        };
        let shown = || v.to_string();
        let is = |b: bool| b.then(shown);
        match self {
            True => is(v == &Value::Bool(true) || (required && v != &Value::Bool(false))),
            False => is(v == &Value::Bool(false) || (required && v != &Value::Bool(true))),
            Zero => is(v.as_i64() == Some(0)),
            NonZero => is(v.as_i64().is_none_or(|n| n != 0)),
            Outside(allowed) => is(!v.as_str().is_some_and(|s| matches_any(s, allowed))),
            NonEmpty => is(v.as_str().is_none_or(|s| !s.is_empty())),
            Present => Some(shown()),
            ItemsOutside(allowed) => match v.as_array() {
                Some(items) => {
                    let out: Vec<String> = items
                        .iter()
                        .filter(|i| !i.as_str().is_some_and(|s| allowed.contains(&s)))
                        .map(Value::to_string)
                        .collect();
                    (!out.is_empty()).then(|| out.join(", "))
                }
                None => Some(shown()),
            },
            Lacks(item) => is(!v.as_array().is_some_and(|a| a.iter().any(|i| i.as_str() == Some(item)))),
            KeysOutside(allowed) => match v.as_object() {
                Some(m) => {
                    let out: Vec<&str> = m.keys().map(String::as_str).filter(|k| !allowed.contains(k)).collect();
                    (!out.is_empty()).then(|| out.join(", "))
                }
                None => Some(shown()),
            },
        }
    }
}

fn matches_any(s: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => s.starts_with(prefix),
        None => s == *a,
    })
}

/// One field of one pod template that breaks a rule.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    /// JSON pointer of the field in the object (for a field a container
    /// leaves unset, where the container would set it).
    pub pointer: String,
    /// The offending value, as shown in a message (`unset` when missing).
    pub shown: String,
    /// The container's name, for container rules.
    pub container: Option<String>,
}

impl Finding {
    /// Identity across a patch: the same rule, field and value.
    pub fn same(&self, other: &Finding) -> bool {
        self.rule.allow == other.rule.allow && self.pointer == other.pointer && self.shown == other.shown
    }
}

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Every rule the pod template at `template` (a JSON pointer without
/// escapes, such as `/spec/template`) of `object` breaks, each field once.
/// Pointers are only built for findings: this runs for every environment
/// of every service.
pub fn findings(object: &Value, template: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let Some(t) = object.pointer(template) else { return out };
    let Some(pod) = t.get("spec") else { return out };
    let mut at = String::with_capacity(128);
    for r in RULES {
        at.clear();
        at.push_str(template);
        match r.scope {
            Scope::Pod => {
                at.push_str("/spec");
                visit(pod, &mut at, r.field.split('/'), &mut |at, v| push(&mut out, r, at, v, None));
            }
            Scope::PodAnnotations(prefix) => {
                let Some(m) = t.pointer("/metadata/annotations").and_then(Value::as_object) else { continue };
                at.push_str("/metadata/annotations");
                for (k, v) in m.iter().filter(|(k, _)| k.starts_with(prefix)) {
                    let len = at.len();
                    push_segment(&mut at, k);
                    push(&mut out, r, &at, Some(v), None);
                    at.truncate(len);
                }
            }
            Scope::Container { fallback } => {
                at.push_str("/spec");
                let base = at.len();
                for list in CONTAINER_LISTS {
                    let Some(items) = pod.get(*list).and_then(Value::as_array) else { continue };
                    for (i, c) in items.iter().enumerate() {
                        at.truncate(base);
                        at.push('/');
                        at.push_str(list);
                        at.push('/');
                        at.push_str(&i.to_string());
                        let name = c.get("name").and_then(Value::as_str);
                        visit(c, &mut at, r.field.split('/'), &mut |at, v| {
                            let inherited = match (v, fallback) {
                                (None, Some(f)) => f.split('/').try_fold(pod, |v, seg| v.get(seg)).map(|v| (f, v)),
                                _ => None,
                            };
                            match inherited {
                                Some((f, v)) => push(&mut out, r, &format!("{template}/spec/{f}"), Some(v), name),
                                None => push(&mut out, r, at, v, name),
                            }
                        });
                    }
                }
            }
        }
    }
    out
}

fn push(out: &mut Vec<Finding>, r: &'static Rule, pointer: &str, v: Option<&Value>, container: Option<&str>) {
    let Some(shown) = r.bad.offending(v, r.required) else { return };
    // A field two rules flag (baseline and restricted, or a pod-level value
    // every container inherits) is reported once, by the first rule.
    if out.iter().any(|f| f.rule.allow == r.allow && f.pointer == pointer) {
        return;
    }
    out.push(Finding { rule: r, pointer: pointer.to_string(), shown, container: container.map(str::to_string) });
}

/// Call `f` with every value at the `/`-separated `segs` below `v` (whose
/// pointer is `at`), or with `None` where the field is unset (unless a `*`
/// lies beyond: an absent list has no items to check).
fn visit<'a>(v: &Value, at: &mut String, mut segs: std::str::Split<'a, char>, f: &mut dyn FnMut(&str, Option<&Value>)) {
    let Some(seg) = segs.next() else {
        f(at, Some(v));
        return;
    };
    let len = at.len();
    if seg == "*" {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push('/');
                    at.push_str(&i.to_string());
                    visit(item, at, segs.clone(), f);
                    at.truncate(len);
                }
            }
            Value::Object(m) => {
                for (k, item) in m {
                    push_segment(at, k);
                    visit(item, at, segs.clone(), f);
                    at.truncate(len);
                }
            }
            _ => {}
        }
        return;
    }
    push_segment(at, seg);
    match v.get(seg) {
        Some(next) => visit(next, at, segs, f),
        None if !segs.clone().any(|s| s == "*") => {
            for s in segs {
                push_segment(at, s);
            }
            f(at, None);
        }
        None => {}
    }
    at.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hardened() -> Value {
        json!({ "spec": { "template": {
            "metadata": { "annotations": { "example.com/x": "y" } },
            "spec": {
                "automountServiceAccountToken": false,
                "securityContext": { "runAsNonRoot": true, "runAsUser": 10001,
                    "seccompProfile": { "type": "RuntimeDefault" } },
                "containers": [{ "name": "api", "securityContext": {
                    "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                    "capabilities": { "drop": ["ALL"], "add": ["NET_BIND_SERVICE"] } } }],
                "volumes": [{ "name": "tmp", "emptyDir": {} }],
            }
        } } })
    }

    fn allows(v: &Value) -> Vec<(&'static str, String)> {
        findings(v, "/spec/template").into_iter().map(|f| (f.rule.allow, f.pointer)).collect()
    }

    #[test]
    fn the_hardened_template_breaks_nothing() {
        assert_eq!(allows(&hardened()), []);
    }

    #[test]
    fn every_weakening_is_found_at_its_field() {
        let c = "/spec/template/spec/containers/0";
        let cases: &[(&str, Value, &str, &str)] = &[
            ("/spec/template/spec/hostNetwork", json!(true), "host-network", "/spec/template/spec/hostNetwork"),
            ("/spec/template/spec/hostPID", json!(true), "host-pid", "/spec/template/spec/hostPID"),
            ("/spec/template/spec/hostIPC", json!(true), "host-ipc", "/spec/template/spec/hostIPC"),
            (
                "/spec/template/spec/volumes/0",
                json!({ "name": "root", "hostPath": { "path": "/" } }),
                "host-path",
                "/spec/template/spec/volumes/0/hostPath",
            ),
            (
                "/spec/template/spec/volumes/0",
                json!({ "name": "nfs", "nfs": { "server": "x", "path": "/" } }),
                "volume-types",
                "/spec/template/spec/volumes/0",
            ),
            (
                "/spec/template/spec/automountServiceAccountToken",
                json!(true),
                "service-account-token",
                "/spec/template/spec/automountServiceAccountToken",
            ),
            (
                "/spec/template/metadata/annotations",
                json!({ "container.apparmor.security.beta.kubernetes.io/api": "unconfined" }),
                "apparmor-unconfined",
                "/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1api",
            ),
            (
                "/spec/template/spec/securityContext/sysctls",
                json!([{ "name": "kernel.msgmax", "value": "1" }]),
                "unsafe-sysctls",
                "/spec/template/spec/securityContext/sysctls/0/name",
            ),
            (
                "/spec/template/spec/securityContext/seLinuxOptions",
                json!({ "type": "spc_t" }),
                "selinux",
                "/spec/template/spec/securityContext/seLinuxOptions/type",
            ),
        ];
        let container: &[(&str, Value, &str)] = &[
            ("securityContext/privileged", json!(true), "privileged"),
            ("securityContext/procMount", json!("Unmasked"), "unmasked-proc"),
            ("securityContext/allowPrivilegeEscalation", json!(true), "privilege-escalation"),
            ("securityContext/readOnlyRootFilesystem", json!(false), "writable-root-filesystem"),
            ("securityContext/runAsNonRoot", json!(false), "run-as-root"),
            ("securityContext/runAsUser", json!(0), "run-as-root"),
            ("securityContext/capabilities/add", json!(["SYS_ADMIN"]), "add-capabilities"),
            ("securityContext/capabilities/drop", json!([]), "keep-capabilities"),
            ("securityContext/seccompProfile", json!({ "type": "Unconfined" }), "seccomp-unconfined"),
            ("securityContext/appArmorProfile", json!({ "type": "Unconfined" }), "apparmor-unconfined"),
            ("securityContext/windowsOptions", json!({ "hostProcess": true }), "host-process"),
            ("ports", json!([{ "containerPort": 80, "hostPort": 80 }]), "host-port"),
        ];
        let mut all: Vec<(String, Value, &str, String)> =
            cases.iter().map(|(p, v, a, at)| (p.to_string(), v.clone(), *a, at.to_string())).collect();
        for (field, v, a) in container {
            let at = match *a {
                "seccomp-unconfined" => format!("{c}/securityContext/seccompProfile/type"),
                "apparmor-unconfined" => format!("{c}/securityContext/appArmorProfile/type"),
                "host-process" => format!("{c}/securityContext/windowsOptions/hostProcess"),
                "host-port" => format!("{c}/ports/0/hostPort"),
                _ => format!("{c}/{field}"),
            };
            all.push((format!("{c}/{field}"), v.clone(), a, at));
        }
        for (pointer, value, allow, at) in all {
            let mut v = hardened();
            let (parent, last) = pointer.rsplit_once('/').unwrap();
            match v.pointer_mut(parent).unwrap() {
                Value::Array(a) => a[last.parse::<usize>().unwrap()] = value,
                parent => _ = parent.as_object_mut().unwrap().insert(last.to_string(), value),
            }
            let got = allows(&v);
            assert!(got.contains(&(allow, at.clone())), "{pointer}: expected {allow} at {at}, got {got:?}");
            assert!(got.iter().all(|(a, _)| *a == allow), "{pointer}: only {allow} expected, got {got:?}");
        }
    }

    #[test]
    fn a_bare_container_misses_every_required_field_but_inherits_the_pod() {
        let mut v = hardened();
        v["spec"]["template"]["spec"]["initContainers"] = json!([{ "name": "init", "image": "busybox" }]);
        let got = allows(&v);
        let at = "/spec/template/spec/initContainers/0/securityContext";
        assert_eq!(
            got,
            [
                ("privilege-escalation", format!("{at}/allowPrivilegeEscalation")),
                ("keep-capabilities", format!("{at}/capabilities/drop")),
                ("writable-root-filesystem", format!("{at}/readOnlyRootFilesystem")),
            ]
        );
        // Without the pod-level settings, it misses those too.
        v["spec"]["template"]["spec"]["securityContext"] = json!({});
        let got = allows(&v);
        assert!(got.contains(&("run-as-root", format!("{at}/runAsNonRoot"))), "{got:?}");
        assert!(got.contains(&("seccomp-unconfined", format!("{at}/seccompProfile/type"))), "{got:?}");
    }

    #[test]
    fn baseline_capabilities_break_restricted_only_and_others_baseline() {
        let mut v = hardened();
        v["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["CHOWN"]);
        let f = findings(&v, "/spec/template");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule.level, f[0].shown.as_str()), (Level::Restricted, "\"CHOWN\""));
        v["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
            json!(["CHOWN", "SYS_ADMIN"]);
        let f = findings(&v, "/spec/template");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule.level, f[0].shown.as_str()), (Level::Baseline, "\"SYS_ADMIN\""));
    }

    #[test]
    fn near_misses_pass() {
        let mut v = hardened();
        let s = &mut v["spec"]["template"]["spec"];
        s["hostNetwork"] = json!(false);
        s["securityContext"]["seccompProfile"] = json!({ "type": "Localhost", "localhostProfile": "x.json" });
        s["securityContext"]["sysctls"] = json!([{ "name": "net.ipv4.tcp_syncookies", "value": "1" }]);
        s["containers"][0]["securityContext"]["procMount"] = json!("Default");
        s["containers"][0]["ports"] = json!([{ "containerPort": 80, "hostPort": 0 }]);
        s["volumes"] = json!([{ "name": "p", "projected": { "sources": [] } }]);
        v["spec"]["template"]["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/api"] =
            json!("localhost/k8s-nginx");
        assert_eq!(allows(&v), []);
    }

    #[test]
    fn every_allow_name_has_a_docs_section() {
        let docs = include_str!("../../../docs/security.md");
        for r in RULES {
            let heading = docs.lines().any(|l| {
                l.starts_with("### ") && l[4..].to_lowercase().replace(['/', '.'], "").replace(' ', "-") == r.anchor
            });
            assert!(heading, "docs/security.md has no `### ` heading for #{}", r.anchor);
            assert!(docs.contains(&format!("`{}`", r.allow)), "docs/security.md does not name `{}`", r.allow);
        }
    }
}
