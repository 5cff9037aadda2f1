//! Stage 6: objects → deterministic, YAML-1.1-safe text.
//!
//! Only this module knows YAML. serde-saphyr quotes every string a YAML 1.1
//! reader (kubectl's Go YAML, PyYAML) would read as something else (`on`,
//! `no`, `y`, `0755`, `1e3`, `~`, …), keys included.

use crate::lower::Object;

/// One output file: a path relative to the output folder, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// `<service>/<environment>/<file>`.
    pub path: String,
    pub contents: String,
}

/// Serialize one JSON value as a YAML document (no leading `---`).
pub fn yaml(v: &serde_json::Value) -> String {
    let opts = serde_saphyr::ser_options! { prefer_block_scalars: false };
    match serde_saphyr::to_string_with_options(v, opts) {
        Ok(s) => s,
        // A serde_json::Value always serializes; keep the output well-formed regardless.
        Err(e) => format!("# svcc: serialization failed: {e}\n"),
    }
}

/// The files of one environment.
pub fn artifacts(service: &str, environment: &str, objects: &[Object]) -> Vec<Artifact> {
    objects
        .iter()
        .map(|o| Artifact { path: format!("{service}/{environment}/{}", o.file_name()), contents: yaml(&o.value) })
        .collect()
}

/// A multi-document stream of artifacts, each introduced by `---` and a
/// comment naming the file it would be written to.
pub fn stream(artifacts: &[Artifact]) -> String {
    let mut out = String::new();
    for a in artifacts {
        out.push_str("---\n# Source: ");
        out.push_str(&a.path);
        out.push('\n');
        out.push_str(&a.contents);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_lookalikes_are_quoted() {
        for s in ["on", "no", "y", "N", "0755", "1e3", "1.10", "~", "null", "true", "12:30", "2001-12-14"] {
            let v = serde_json::json!({ "k": s, s: "v" });
            let out = yaml(&v);
            assert!(!out.contains(&format!("k: {s}\n")), "value {s} unquoted in {out}");
            assert!(
                !out.contains(&format!("\n{s}: v")) && !out.starts_with(&format!("{s}: v")),
                "key {s} unquoted in {out}"
            );
        }
    }
}
