//! The `config` block: `config-map NAME { file …; literal … }` and
//! `external-secret NAME store=… { key …; extract … }`.

use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{ConfigEntry, ConfigMap, ConfigSource, ExternalSecret, Map, RemoteKey};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "config-map",
        place: Place::SERVICE.or(Place::ENVIRONMENT),
        order: 17,
        summary: "A ConfigMap from files and literals, named with a hash of its contents so a change rolls the pods",
        doc: "language.md#config-map",
        args: "NAME",
        props: &["hash"],
        repeat: true,
        children: Some(&ENTRIES),
        ..Node::new(|n, d, c| config_map(n, d, &mut c.body.config_maps))
    },
    Node {
        name: "external-secret",
        place: Place::ANY,
        order: 17,
        summary: "An ExternalSecret (external-secrets.io/v1): a Secret kept in sync with a secret store",
        doc: "language.md#external-secret",
        args: "NAME",
        props: &["store", "store-kind", "refresh"],
        repeat: true,
        children: Some(&REMOTE),
        ..Node::new(|n, d, c| external_secret(n, d, &mut c.body.external_secrets))
    },
];

/// The entries of a `config-map`.
pub const ENTRIES: &[Node<ConfigMap>] = &[
    Node {
        name: "file",
        summary: "A file of the repository, relative to the spec, as one key (its file name unless `key=`)",
        doc: "language.md#config-map",
        args: "PATH",
        props: &["key"],
        repeat: true,
        ..Node::new(file)
    },
    Node {
        name: "literal",
        summary: "One key and its value",
        doc: "language.md#config-map",
        args: "KEY VALUE",
        repeat: true,
        ..Node::new(literal)
    },
];

/// The keys of an `external-secret`.
pub const REMOTE: &[Node<ExternalSecret>] = &[
    Node {
        name: "key",
        summary: "One key of the Secret, read from the store (`remote=`, `property=`, `version=`)",
        doc: "language.md#external-secret",
        args: "KEY",
        props: &["remote", "property", "version"],
        repeat: true,
        ..Node::new(remote_key)
    },
    Node {
        name: "extract",
        summary: "Every property of a secret of the store, each as a key",
        doc: "language.md#external-secret",
        args: "REMOTE",
        repeat: true,
        ..Node::new(extract)
    },
];

/// At most this many keys in one config map (each file is read and hashed).
pub const MAX_ENTRIES: usize = 256;

/// `config-map app-config hash=#false { … }`.
fn config_map(node: &KdlNode, diags: &mut Diagnostics, out: &mut Map<ConfigMap>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "config map name", values::check_dns1123_subdomain),
        None => {
            diags.push(missing(r.name_span(), "a name", "write `config-map NAME { file \"config/app.yaml\" }`"));
            None
        }
    };
    let hash = r.prop("hash").and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    let named = name.is_some();
    let name = name.unwrap_or_else(|| Spanned::new(String::new(), name_span(node)));
    let mut cm = ConfigMap { name, node: name_span(node), hash, entries: Map::new() };
    node::decode_children(ENTRIES, node, Twice::Decode, &mut cm, diags);
    if !named {
        return;
    }
    if cm.entries.len() > MAX_ENTRIES {
        diags.push(
            Diagnostic::error(
                Code::ConfigTooLarge,
                format!("config map `{}` has more than {MAX_ENTRIES} keys", cm.name.value),
            )
            .at(cm.name.span, format!("{} keys", cm.entries.len()))
            .help("split it into several config maps"),
        );
        return;
    }
    if let Some(prev) = out.get(&cm.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("config map `{}` is declared twice", cm.name.value))
                .at(cm.name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each config map its own name, or merge their keys into one"),
        );
        return;
    }
    out.insert(cm.name.value.clone(), cm);
}

/// A key written twice in one config map.
fn add(cm: &mut ConfigMap, entry: ConfigEntry, diags: &mut Diagnostics) {
    if let Some(prev) = cm.entries.get(&entry.key.value) {
        diags.push(
            Diagnostic::error(Code::ConfigKeyConflict, format!("key `{}` is given twice", entry.key.value))
                .at(entry.key.span, "given again here")
                .also(prev.key.span, "first given here")
                .help("give the file another key with `key=`, or drop one of them"),
        );
        return;
    }
    cm.entries.insert(entry.key.value.clone(), entry);
}

/// `file "config/app.yaml" key="app.yaml"`.
fn file(node: &KdlNode, diags: &mut Diagnostics, cm: &mut ConfigMap) {
    let mut r = NodeReader::new(node);
    let path = match r.arg(0) {
        Some(e) => reader::name(diags, e, "file path", check_config_path),
        None => {
            diags.push(missing(r.name_span(), "a path", "write `file \"config/app.yaml\"`"));
            None
        }
    };
    let key_entry = r.prop("key");
    let key_written = key_entry.is_some();
    let key = key_entry.and_then(|e| reader::name(diags, e, "config map key", values::check_config_key));
    r.finish(diags);
    no_children(diags, node);
    let Some(path) = path else { return };
    let key = match key {
        Some(k) => k,
        None if key_written => return,
        None => {
            let base = path.value.rsplit('/').next().unwrap_or_default().to_string();
            if let Err(why) = values::check_config_key(&base) {
                diags.push(
                    reader::invalid_name(path.span, "config map key", &base, &why)
                        .help("the file name is the key: give it another with `key=\"app.yaml\"`"),
                );
                return;
            }
            Spanned::new(base, path.span)
        }
    };
    add(cm, ConfigEntry { key, source: ConfigSource::File { path, content: None } }, diags);
}

/// `literal LOG_LEVEL "info"`.
fn literal(node: &KdlNode, diags: &mut Diagnostics, cm: &mut ConfigMap) {
    let mut r = NodeReader::new(node);
    let key = r.arg(0).and_then(|e| reader::name(diags, e, "config map key", values::check_config_key));
    let value = r.arg(1).and_then(|e| reader::text(diags, e));
    let complete = r.arg(0).is_some() && r.arg(1).is_some();
    r.finish(diags);
    no_children(diags, node);
    if !complete {
        diags.push(missing(name_span(node), "a key and a value", "write `literal LOG_LEVEL \"info\"`"));
        return;
    }
    if let (Some(key), Some(value)) = (key, value) {
        add(cm, ConfigEntry { key, source: ConfigSource::Literal(value) }, diags);
    }
}

/// A path a config map reads: relative to the spec, `/`-separated, no
/// hidden or `..`-free check here (the repository confines it when it is
/// read), printable, at most 4096 bytes.
pub fn check_config_path(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 4096 {
        return Err("must be 1 to 4096 characters long".into());
    }
    if s.starts_with('/') || s.contains('\\') || s.get(1..3) == Some(":\\") {
        return Err("must be relative to the spec, with `/` between folders".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!("may not contain {}", values::describe_char(c)));
    }
    if s.ends_with('/') {
        return Err("names a folder; name each file".into());
    }
    Ok(())
}

/// `external-secret db store="vault" store-kind="ClusterSecretStore" refresh="1h" { … }`.
fn external_secret(node: &KdlNode, diags: &mut Diagnostics, out: &mut Map<ExternalSecret>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "secret name", values::check_dns1123_subdomain),
        None => {
            diags.push(missing(r.name_span(), "a name", "write `external-secret NAME store=\"vault\" { … }`"));
            None
        }
    };
    let store =
        r.prop("store").and_then(|e| reader::name(diags, e, "secret store name", values::check_dns1123_subdomain));
    let store_kind =
        r.prop("store-kind").and_then(|e| reader::choice(diags, e, &["SecretStore", "ClusterSecretStore"]));
    let refresh = r.prop("refresh").and_then(|e| reader::seconds(diags, e));
    r.finish(diags);
    let named = name.is_some();
    let mut es = ExternalSecret {
        name: name.unwrap_or_else(|| Spanned::new(String::new(), name_span(node))),
        node: name_span(node),
        store,
        store_kind,
        refresh,
        keys: Map::new(),
        extract: Vec::new(),
    };
    node::decode_children(REMOTE, node, Twice::Decode, &mut es, diags);
    if !named {
        return;
    }
    if let Some(prev) = out.get(&es.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("external secret `{}` is declared twice", es.name.value))
                .at(es.name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each secret its own name"),
        );
        return;
    }
    out.insert(es.name.value.clone(), es);
}

/// A remote key or property: printable text, at most 1024 characters.
fn check_remote(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 1024 {
        return Err("must be 1 to 1024 characters long".into());
    }
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("may not contain {}", values::describe_char(c))),
        None => Ok(()),
    }
}

/// `key DB_PASSWORD remote="prod/db" property="password" version="3"`.
fn remote_key(node: &KdlNode, diags: &mut Diagnostics, es: &mut ExternalSecret) {
    let mut r = NodeReader::new(node);
    let key = match r.arg(0) {
        Some(e) => reader::name(diags, e, "secret key", values::check_config_key),
        None => {
            diags.push(missing(
                r.name_span(),
                "a key",
                "write `key DB_PASSWORD remote=\"prod/db\" property=\"password\"`",
            ));
            None
        }
    };
    let remote = match r.prop("remote") {
        Some(e) => reader::name(diags, e, "remote key", check_remote),
        None => {
            diags.push(missing(
                r.name_span(),
                "`remote=`",
                "write `remote=\"prod/db\"`: the secret's key in the store",
            ));
            None
        }
    };
    let property = r.prop("property").and_then(|e| reader::name(diags, e, "property", check_remote));
    let version = r.prop("version").and_then(|e| reader::name(diags, e, "version", check_remote));
    r.finish(diags);
    no_children(diags, node);
    let (Some(key), Some(remote)) = (key, remote) else { return };
    if let Some(prev) = es.keys.get(&key.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("key `{}` is given twice", key.value))
                .at(key.span, "given again here")
                .also(prev.key.span, "first given here"),
        );
        return;
    }
    es.keys.insert(key.value.clone(), RemoteKey { key, remote, property, version });
}

/// `extract "prod/app"`.
fn extract(node: &KdlNode, diags: &mut Diagnostics, es: &mut ExternalSecret) {
    let mut r = NodeReader::new(node);
    let remote = match r.arg(0) {
        Some(e) => reader::name(diags, e, "remote key", check_remote),
        None => {
            diags.push(missing(r.name_span(), "a remote key", "write `extract \"prod/app\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    es.extract.extend(remote);
}
