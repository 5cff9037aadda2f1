//! Random `patch` blocks for the patch applier, driven by any source of
//! choices: `tests/robustness.rs` uses a seeded generator, the `patch` fuzz
//! target (fuzz/fuzz_targets/patch.rs, which includes this file) uses the
//! fuzzer's bytes. The pointers mix real field names with hostile segments
//! (escapes, `-`, huge indices, empty keys) so that most patches get past
//! the field check and reach the applier and the schema.

/// A source of choices: `pick(n)` returns a number below `n` (`n > 0`).
pub type Pick<'a> = &'a mut dyn FnMut(usize) -> usize;

const SEGMENTS: &[&str] = &[
    "spec",
    "template",
    "metadata",
    "annotations",
    "labels",
    "containers",
    "0",
    "1",
    "-",
    "replicas",
    "minReplicas",
    "maxReplicas",
    "resources",
    "limits",
    "cpu",
    "env",
    "ports",
    "containerPort",
    "securityContext",
    "runAsUser",
    "strategy",
    "rollingUpdate",
    "maxSurge",
    "selector",
    "matchLabels",
    "name",
    "kind",
    "example.com~1team",
    "~0",
    "~",
    "",
    "18446744073709551616",
    "revisionHistoryLimit",
    "dnsConfig",
    "options",
    "behavior",
    "scaleDown",
    "stabilizationWindowSeconds",
    "ünïcode",
];

/// Kinds, each with pointers that exist or can be created in its object.
const KINDS: &[(&str, &[&str])] = &[
    (
        "Deployment",
        &[
            "/spec/revisionHistoryLimit",
            "/spec/minReadySeconds",
            "/spec/template/metadata/annotations",
            "/spec/template/spec/dnsConfig",
            "/spec/template/spec/priorityClassName",
            "/spec/template/spec/containers/0/env/-",
            "/spec/template/spec/containers/0/resources/limits",
            "/metadata/annotations/example.com~1team",
        ],
    ),
    ("Service", &["/spec/sessionAffinity", "/metadata/annotations", "/spec/ports/0/port"]),
    ("ServiceAccount", &["/metadata/annotations", "/automountServiceAccountToken"]),
    (
        "HorizontalPodAutoscaler",
        &["/spec/behavior/scaleDown/stabilizationWindowSeconds", "/spec/maxReplicas", "/metadata/labels"],
    ),
    ("PodDisruptionBudget", &["/metadata/annotations", "/spec/maxUnavailable"]),
    ("Deploymnet", &["/spec/replicas"]),
];

/// A KDL string literal (also `common::kdl_string`).
pub fn kdl_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One of the kind's good pointers (two times in three), or random segments.
fn pointer(pick: Pick<'_>, good: &[&str]) -> String {
    if pick(3) > 0 {
        return good[pick(good.len())].to_string();
    }
    let n = pick(6);
    let mut p = String::new();
    for _ in 0..n {
        p.push('/');
        p.push_str(SEGMENTS[pick(SEGMENTS.len())]);
    }
    p
}

fn scalar(pick: Pick<'_>) -> String {
    match pick(9) {
        0 => "#null".into(),
        1 => "#true".into(),
        2 => "-3".into(),
        3 => "2147483648".into(),
        4 => "1.5".into(),
        5 => "\"500m\"".into(),
        6 => "\"on\"".into(),
        7 => "\"\"".into(),
        _ => pick(100_000).to_string(),
    }
}

/// A value: a scalar, or a block of entries or items (`depth` levels at most).
fn value(pick: Pick<'_>, depth: usize, indent: &str) -> String {
    if depth == 0 || pick(3) > 0 {
        return scalar(pick);
    }
    let inner = format!("{indent}    ");
    let mut out = String::from("{\n");
    let list = pick(2) == 0;
    for _ in 0..pick(4) {
        let head = if list { "-".to_string() } else { kdl_string(SEGMENTS[pick(SEGMENTS.len())]) };
        out.push_str(&format!("{inner}{head} {}\n", value(pick, depth - 1, &inner)));
    }
    out.push_str(indent);
    out.push('}');
    out
}

/// A block of `key value` entries, for `merge`.
fn object(pick: Pick<'_>, indent: &str) -> String {
    let inner = format!("{indent}    ");
    let mut out = String::from("{\n");
    for _ in 0..1 + pick(3) {
        out.push_str(&format!("{inner}{} {}\n", kdl_string(SEGMENTS[pick(SEGMENTS.len())]), value(pick, 2, &inner)));
    }
    out.push_str(indent);
    out.push('}');
    out
}

/// One `patch KIND { … }` block of one or two operations.
fn patch_block(pick: Pick<'_>, indent: &str) -> String {
    let inner = format!("{indent}    ");
    let (kind, good) = KINDS[pick(KINDS.len())];
    let mut out = format!("{indent}patch {kind} {{\n");
    for _ in 0..1 + pick(2) {
        let ptr = kdl_string(&pointer(pick, good));
        let op = match pick(4) {
            0 | 1 => format!("set {ptr} {}", value(pick, 3, &inner)),
            2 => format!("merge {ptr} {}", object(pick, &inner)),
            _ => format!("remove {ptr}"),
        };
        out.push_str(&format!("{inner}{op}\n"));
    }
    out.push_str(indent);
    out.push_str("}\n");
    out
}

/// A valid service spec (two environments, an autoscaler) with random
/// patches at the top level and in an environment.
pub fn spec(pick: Pick<'_>) -> String {
    let mut s = String::from(
        "service api {\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    \
         probes { readiness \"/ready\" }\n    autoscale min=2 max=5 { cpu 70 }\n",
    );
    s.push_str(&patch_block(pick, "    "));
    s.push_str("    environment staging {\n");
    if pick(3) == 0 {
        s.push_str(&patch_block(pick, "        "));
    }
    s.push_str("    }\n    environment production\n}\n");
    s
}
