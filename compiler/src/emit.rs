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

/// Serialize a document meant for people to read and edit, such as a
/// GitHub workflow: multi-line strings (`run:` scripts) become `|` literal
/// blocks; one-line strings are never folded.
pub fn yaml_with_blocks(v: &serde_json::Value) -> String {
    let opts = serde_saphyr::ser_options! { prefer_block_scalars: true, folded_wrap_chars: usize::MAX };
    match serde_saphyr::to_string_with_options(v, opts) {
        Ok(s) => s,
        Err(e) => format!("# svcc: serialization failed: {e}\n"),
    }
}

/// The file name of the kustomize root written into every environment folder.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// The files of one environment: one per object, in order, then a
/// `kustomization.yaml` listing them, so that the folder is a kustomize
/// root Argo CD and Flux can point at unchanged.
pub fn artifacts(service: &str, environment: &str, objects: &[Object]) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = objects
        .iter()
        .map(|o| Artifact { path: format!("{service}/{environment}/{}", o.file_name()), contents: yaml(&o.value) })
        .collect();
    let resources: Vec<String> = objects.iter().map(Object::file_name).collect();
    out.push(Artifact {
        path: format!("{service}/{environment}/{KUSTOMIZATION}"),
        contents: kustomization(&resources),
    });
    out
}

/// A `kustomization.yaml` listing `resources` (files, or folders holding
/// another kustomization), in order.
pub fn kustomization(resources: &[String]) -> String {
    yaml(&serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }))
}

/// A generated `kustomization.yaml` with `more` (hand-written files of the
/// folder, such as `extra/ingress.yaml`) appended to its resources.
pub fn kustomization_with(text: &str, more: &[String]) -> String {
    let Ok(mut docs) = parse_documents(text) else { return text.to_string() };
    let (Some(doc), true) = (docs.first_mut(), !more.is_empty()) else { return text.to_string() };
    if let Some(resources) = doc.get_mut("resources").and_then(serde_json::Value::as_array_mut) {
        resources.extend(more.iter().cloned().map(serde_json::Value::String));
    }
    yaml(doc)
}

/// Whether an artifact is a kustomize root rather than a Kubernetes object.
pub fn is_kustomization(a: &Artifact) -> bool {
    a.path.rsplit('/').next() == Some(KUSTOMIZATION)
}

/// Whether an artifact is one of the pipeline files (`<service>/pipeline/…`:
/// the workflow, Dockerfile and deploy script) rather than a manifest.
pub fn is_pipeline_file(a: &Artifact) -> bool {
    a.path.split('/').nth(1) == Some(crate::check::ci::PIPELINE_FOLDER) && a.path.split('/').count() > 2
}

/// A multi-document stream of the Kubernetes objects among `artifacts`,
/// each introduced by `---` and a comment naming the file it would be
/// written to. `kustomization.yaml` files and the pipeline files are left
/// out: they are not objects a cluster accepts (`svcc build | kubectl apply -f -`);
/// `svcc build -o DIR` writes them.
pub fn stream(artifacts: &[Artifact]) -> String {
    let mut out = String::new();
    for a in artifacts.iter().filter(|a| !is_kustomization(a) && !is_pipeline_file(a)) {
        out.push_str("---\n# Source: ");
        out.push_str(&a.path);
        out.push('\n');
        out.push_str(&a.contents);
    }
    out
}

/// Parse a YAML file back into JSON values, one per document (used to
/// compare committed output with a fresh build).
pub fn parse_documents(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip() {
        let v = serde_json::json!({ "a": "on", "b": [1, 2], "c": { "d": "0755" } });
        let text = format!("---\n# c\n{}---\n{}", yaml(&v), yaml(&v));
        assert_eq!(parse_documents(&text).unwrap(), vec![v.clone(), v]);
    }

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
