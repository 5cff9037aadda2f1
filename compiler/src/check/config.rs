//! `config-map` and `external-secret`: the configuration generated with
//! the service. A config map's files are read (through the caller's
//! loader, which confines them to the repository) after composition, by
//! [`load_files`]; [`resolve`] names each config map with a hash of its
//! data, as kustomize's `configMapGenerator` does, and [`rewrite`] points
//! every reference of the containers at that name, so a change of the
//! configuration changes the pod template and rolls the pods.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::merge::{Merger, merge_map, or};
use crate::compose::{FileKind, LoadError, Loader, Request};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, ConfigMap, ConfigSource, ExternalSecret, Map, Spec, VolumeSource};
use crate::plan::{PlanConfigMap, PlanContainer, PlanEnvValue, PlanExternalSecret, PlanRemoteKey};
use crate::settings as s;
use crate::source::Span;

/// The most a ConfigMap may hold: what the API server stores in one object.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Config map by config map, key by key: an environment adds keys or
/// replaces them.
pub(super) fn merge_config_maps(c: &mut Merger<'_>, base: &Map<ConfigMap>, over: &Map<ConfigMap>) -> Map<ConfigMap> {
    let mut out = base.clone();
    for (name, o) in over {
        let key = s::CONFIG_MAP.with_key(name);
        match base.get(name) {
            None => {
                c.note(key, &o.name, None);
                out.insert(name.clone(), o.clone());
            }
            Some(b) => {
                let ConfigMap { name: o_name, node, hash, entries } = o;
                c.set_paths.extend(entries.keys().map(|k| format!("{key}.{k}")));
                out.insert(
                    name.clone(),
                    ConfigMap {
                        name: o_name.clone(),
                        node: *node,
                        hash: or(hash, &b.hash),
                        entries: merge_map(&b.entries, entries),
                    },
                );
            }
        }
    }
    out
}

/// External secret by name: its store settings one by one, its keys key by key.
pub(super) fn merge_external_secrets(
    c: &mut Merger<'_>,
    base: &Map<ExternalSecret>,
    over: &Map<ExternalSecret>,
) -> Map<ExternalSecret> {
    let mut out = base.clone();
    for (name, o) in over {
        let key = s::EXTERNAL_SECRET.with_key(name);
        let Some(b) = base.get(name) else {
            c.note(key, &o.name, None);
            out.insert(name.clone(), o.clone());
            continue;
        };
        let ExternalSecret { name: o_name, node, store, store_kind, refresh, keys, extract } = o;
        c.set_paths.push(key);
        let mut all = b.extract.clone();
        all.extend(extract.iter().filter(|e| !b.extract.iter().any(|x| x.value == e.value)).cloned());
        out.insert(
            name.clone(),
            ExternalSecret {
                name: o_name.clone(),
                node: *node,
                store: or(store, &b.store),
                store_kind: or(store_kind, &b.store_kind),
                refresh: or(refresh, &b.refresh),
                keys: merge_map(&b.keys, keys),
                extract: all,
            },
        );
    }
    out
}

/// Read every file a config map of the service or of an environment
/// names, relative to the spec `file`, through `loader` (which keeps the
/// reads in the repository and bounds each file); a file that cannot be
/// read is reported at its path.
pub fn load_files(spec: &mut Spec, file: &str, loader: &dyn Loader, diags: &mut Diagnostics) {
    let bodies = std::iter::once(&mut spec.body).chain(spec.environments.iter_mut().map(|e| &mut e.body));
    for body in bodies {
        for cm in body.config_maps.values_mut() {
            for entry in cm.entries.values_mut() {
                if let ConfigSource::File { path, content } = &mut entry.source {
                    *content = read(file, &path.value, path.span, loader, diags);
                }
            }
        }
    }
}

fn read(file: &str, path: &str, at: Span, loader: &dyn Loader, diags: &mut Diagnostics) -> Option<Vec<u8>> {
    let req = Request { spec: file, from: file, path, kind: FileKind::Config };
    let result = crate::repo::check_written(path, FileKind::Config)
        .map_err(|e| LoadError { code: e.code(Code::ConfigFile), label: e.reason(), help: e.help().into() })
        .and_then(|()| loader.locate(&req))
        .and_then(|name| loader.read(&req, &name));
    match result {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            let help = match e.code {
                Code::ConfigFile => {
                    "write the file's path relative to the spec, such as \"config/app.yaml\"".to_string()
                }
                _ => e.help,
            };
            diags.push(
                Diagnostic::error(e.code, format!("cannot read config file `{path}`")).at(at, e.label).help(help),
            );
            None
        }
    }
}

/// The config maps of the merged body `b`, each with its final name, and
/// the final name of each by the name the spec gives it.
pub(super) fn resolve(b: &Body, diags: &mut Diagnostics) -> (Vec<PlanConfigMap>, BTreeMap<String, String>) {
    let mut out = Vec::new();
    let mut names = BTreeMap::new();
    for cm in b.config_maps.values() {
        let mut data = BTreeMap::new();
        let mut binary = BTreeMap::new();
        let mut size = 0usize;
        for (key, entry) in &cm.entries {
            size += key.len();
            match &entry.source {
                ConfigSource::Literal(v) => {
                    size += v.value.len();
                    data.insert(key.clone(), v.value.clone());
                }
                ConfigSource::File { content: Some(bytes), .. } => {
                    size += bytes.len();
                    match String::from_utf8(bytes.clone()) {
                        Ok(text) => data.insert(key.clone(), text),
                        Err(e) => binary.insert(key.clone(), e.into_bytes()).map(|_| String::new()),
                    };
                }
                ConfigSource::File { content: None, .. } => {}
            }
        }
        if size > MAX_CONFIG_BYTES {
            diags.push(
                Diagnostic::error(Code::ConfigTooLarge, format!("config map `{}` holds {size} bytes", cm.name.value))
                    .at(cm.name.span, "more than 1 MiB in all")
                    .help("the API server stores at most 1 MiB in one ConfigMap: split it, or ship large files in the image"),
            );
            continue;
        }
        let hashed = cm.hash.as_ref().is_none_or(|h| h.value);
        let name = if hashed { format!("{}-{}", cm.name.value, hash(&data, &binary)) } else { cm.name.value.clone() };
        if name.len() > 253 {
            diags.push(
                Diagnostic::error(
                    Code::ConfigTooLarge,
                    format!("config map name `{name}` is longer than 253 characters"),
                )
                .at(cm.name.span, "with its hash suffix (11 characters)")
                .help("shorten the config map's name"),
            );
            continue;
        }
        names.insert(cm.name.value.clone(), name.clone());
        out.push(PlanConfigMap { name, span: cm.name.span, data, binary });
    }
    (out, names)
}

/// Ten hex digits of the SHA-256 of the data, keys in order, each key and
/// value length-prefixed (so no two different maps encode alike): the same
/// data gives the same name on every machine.
pub fn hash(data: &BTreeMap<String, String>, binary: &BTreeMap<String, Vec<u8>>) -> String {
    let mut h = Sha256::new();
    let mut put = |tag: u8, k: &str, v: &[u8]| {
        h.update([tag]);
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v);
    };
    for (k, v) in data {
        put(b'd', k, v.as_bytes());
    }
    for (k, v) in binary {
        put(b'b', k, v);
    }
    hex10(&h.finalize())
}

/// The first ten hex digits of a digest.
pub fn hex10(digest: &[u8]) -> String {
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// Point a container's references to a generated config map (`env-from`,
/// `env … config-map=`, a config-map volume) at its hashed name.
pub(super) fn rewrite(c: &mut PlanContainer, names: &BTreeMap<String, String>) {
    for f in c.env_from.iter_mut().filter(|f| !f.secret) {
        if let Some(n) = names.get(&f.name) {
            f.name = n.clone();
        }
    }
    for e in &mut c.env {
        if let PlanEnvValue::ConfigMap { name, .. } = &mut e.value
            && let Some(n) = names.get(name.as_str())
        {
            *name = n.clone();
        }
    }
    for v in &mut c.volumes {
        if let VolumeSource::ConfigMap(name) = &mut v.source
            && let Some(n) = names.get(name.as_str())
        {
            *name = n.clone();
        }
    }
}

/// The external secrets of the merged body, with their defaults.
pub(super) fn external_secrets(b: &Body, diags: &mut Diagnostics) -> Vec<PlanExternalSecret> {
    let mut out = Vec::new();
    for es in b.external_secrets.values() {
        let Some(store) = &es.store else {
            diags.push(
                Diagnostic::error(
                    Code::ExternalSecretIncomplete,
                    format!("external secret `{}` names no secret store", es.name.value),
                )
                .at(es.name.span, "needs `store=`")
                .help(format!(
                    "write `external-secret {} store=\"vault\" {{ … }}`: the SecretStore the operator reads",
                    es.name.value
                )),
            );
            continue;
        };
        if es.keys.is_empty() && es.extract.is_empty() {
            diags.push(
                Diagnostic::error(Code::ExternalSecretIncomplete, format!("external secret `{}` reads nothing", es.name.value))
                    .at(es.name.span, "no `key` and no `extract`")
                    .help("add `key NAME remote=\"…\"` for each key, or `extract \"…\"` for every property of a remote secret"),
            );
            continue;
        }
        out.push(PlanExternalSecret {
            name: es.name.value.clone(),
            span: es.name.span,
            store: store.value.clone(),
            store_kind: es.store_kind.as_ref().map_or("SecretStore".to_string(), |k| k.value.clone()),
            refresh: es.refresh.as_ref().map_or("1h".to_string(), |r| crate::values::format_duration(r.value)),
            keys: es
                .keys
                .values()
                .map(|k| PlanRemoteKey {
                    key: k.key.value.clone(),
                    remote: k.remote.value.clone(),
                    property: k.property.as_ref().map(|p| p.value.clone()),
                    version: k.version.as_ref().map(|p| p.value.clone()),
                })
                .collect(),
            extract: es.extract.iter().map(|e| e.value.clone()).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable_and_tells_data_apart() {
        let d = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let none = BTreeMap::new();
        let a = hash(&d(&[("a", "1"), ("b", "2")]), &none);
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, hash(&d(&[("b", "2"), ("a", "1")]), &none));
        assert_ne!(a, hash(&d(&[("a", "12")]), &none));
        assert_ne!(hash(&d(&[("ab", "c")]), &none), hash(&d(&[("a", "bc")]), &none));
        // Pinned: the name of a config map must not change between releases.
        assert_eq!(hash(&d(&[("LOG_LEVEL", "info")]), &none), "a3422d1d67");
    }
}
