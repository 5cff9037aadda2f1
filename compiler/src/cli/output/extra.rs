//! Hand-written objects beside the generated ones: the files in an
//! environment folder's `extra/` folder belong to the user. A build
//! carries them over unchanged when it replaces the folder, and lists
//! their `*.yaml` and `*.yml` files (those directly in `extra/`) in the
//! folder's `kustomization.yaml`, so `kubectl kustomize`, Argo CD and Flux
//! apply them with the rest; `build --check` and `svcc diff` then see them
//! as part of the build, never as files to remove.

use std::collections::{BTreeMap, BTreeSet};

use svcc::diagnostic::{Code, Diagnostic};
use svcc::diff::Manifest;
use svcc::emit::{self, Artifact, KUSTOMIZATION};

use super::scan::EXTRA;

/// `artifacts` plus the `extra/` files that `existing` (the output folder,
/// path relative to it → text) holds in each environment folder they
/// build, with each such folder's kustomization listing them. `binary`:
/// files of `existing` that are not UTF-8 text (which cannot be carried
/// over as text). Every extra file listed must be YAML whose documents are
/// Kubernetes objects that the generated ones do not already define.
pub fn with_extras(
    mut artifacts: Vec<Artifact>,
    existing: &BTreeMap<String, String>,
    binary: &BTreeSet<String>,
    shown: &str,
) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    let at = |p: &str| format!("{}/{p}", shown.trim_end_matches('/'));
    let envs: Vec<String> = artifacts
        .iter()
        .filter_map(|a| a.path.strip_suffix(&format!("/{KUSTOMIZATION}")).map(str::to_string))
        .collect();
    let mut errors = Vec::new();
    for env in envs {
        let start = format!("{env}/{EXTRA}/");
        let extras: Vec<(&String, &String)> =
            existing.range(start.clone()..).take_while(|(p, _)| p.starts_with(&start)).collect();
        if extras.is_empty() {
            continue;
        }
        let mut listed = Vec::new();
        let generated = generated_keys(&artifacts, &env);
        for (path, text) in extras {
            if binary.contains(path) {
                errors.push(Diagnostic::error(Code::ReadFailed, format!("`{}` is not UTF-8 text", at(path))).help(
                    format!("svcc carries `{EXTRA}/` over as text files; keep other files outside the output folder"),
                ));
                continue;
            }
            let rel = &path[env.len() + 1..];
            if is_resource(&rel[EXTRA.len() + 1..]) {
                check_objects(path, text, &generated, &at, &mut errors);
                listed.push(rel.to_string());
            }
            artifacts.push(Artifact { path: path.clone(), contents: text.clone() });
        }
        let kustomization = format!("{env}/{KUSTOMIZATION}");
        if let Some(k) = artifacts.iter_mut().find(|a| a.path == kustomization) {
            k.contents = emit::kustomization_with(&k.contents, &listed);
        }
    }
    if errors.is_empty() { Ok(artifacts) } else { Err(errors) }
}

/// A file directly in `extra/` that kustomize should load.
fn is_resource(name: &str) -> bool {
    !name.contains('/')
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !matches!(name, "kustomization.yaml" | "kustomization.yml")
}

/// The objects the build generates in the environment folder `env`.
fn generated_keys(artifacts: &[Artifact], env: &str) -> BTreeSet<svcc::diff::ObjectKey> {
    let start = format!("{env}/");
    artifacts
        .iter()
        .filter(|a| a.path.strip_prefix(&start).is_some_and(|f| !f.contains('/')))
        .filter_map(|a| emit::parse_documents(&a.contents).ok())
        .flatten()
        .filter_map(|value| Manifest { path: String::new(), value }.key())
        .collect()
}

/// Each document of an extra file must be an object (`apiVersion`,
/// `kind`, `metadata.name`) that the build does not generate itself:
/// kustomize refuses two objects with one identity.
fn check_objects(
    path: &str,
    text: &str,
    generated: &BTreeSet<svcc::diff::ObjectKey>,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<Diagnostic>,
) {
    let docs = match emit::parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            errors.push(
                Diagnostic::error(Code::ReadFailed, format!("`{}` is not valid YAML: {e}", at(path)))
                    .help("kustomize would fail on it; fix the file or move it out of `extra/`"),
            );
            return;
        }
    };
    for value in docs {
        let has = |p: &str| value.pointer(p).is_some_and(serde_json::Value::is_string);
        if !(has("/apiVersion") && has("/kind") && has("/metadata/name")) {
            errors.push(
                Diagnostic::error(
                    Code::ReadFailed,
                    format!("`{}` holds a document that is not a Kubernetes object", at(path)),
                )
                .help("each document needs `apiVersion`, `kind` and `metadata.name`"),
            );
            continue;
        }
        if let Some(key) = (Manifest { path: path.to_string(), value }).key()
            && generated.contains(&key)
        {
            errors.push(
                Diagnostic::error(Code::ReadFailed, format!("`{}` defines {key}, which svcc generates", at(path)))
                    .help(
                        "change the generated object with a `patch` in the spec instead, or give this one another name",
                    ),
            );
        }
    }
}
