//! `config-map` and `external-secret`. A ConfigMap's keys become
//! `literal` entries (its files are not written: the spec holds their
//! text), so its data, and the hash in its name, stay the same.

use serde_json::Value;

use super::{Cx, Object, kdl, s};

/// The config map a hashed name (`NAME-<10 hex digits>`) stands for.
pub fn unhashed(name: &str) -> Option<&str> {
    let (base, hash) = name.rsplit_once('-')?;
    (hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(base)
}

/// The input objects with every reference to a hashed ConfigMap of theirs
/// written by its plain name, as a spec refers to it (svcc hashes it back);
/// borrowed as they are when there is none.
pub fn unhash(objects: &[Object]) -> std::borrow::Cow<'_, [Object]> {
    let hashed: Vec<(String, String)> = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .filter_map(|o| Some((o.name.clone(), unhashed(&o.name)?.to_string())))
        .collect();
    if hashed.is_empty() {
        return std::borrow::Cow::Borrowed(objects);
    }
    let mut out = objects.to_vec();
    for o in out.iter_mut().filter(|o| matches!(o.kind.as_str(), "Deployment" | "Rollout" | "Job" | "CronJob")) {
        rename(&mut o.value, &hashed);
    }
    std::borrow::Cow::Owned(out)
}

fn rename(v: &mut Value, hashed: &[(String, String)]) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(k.as_str(), "configMap" | "configMapRef" | "configMapKeyRef")
                    && let Some(Value::String(n)) = x.get_mut("name")
                    && let Some((_, base)) = hashed.iter().find(|(h, _)| h == n)
                {
                    *n = base.clone();
                }
                rename(x, hashed);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename(x, hashed)),
        _ => {}
    }
}

pub fn map(cx: &mut Cx) {
    for i in 0..cx.objects.len() {
        let o = &cx.objects[i];
        let text = match o.kind.as_str() {
            "ConfigMap" => config_map(o),
            "ExternalSecret" => external_secret(o),
            _ => continue,
        };
        if let Some(text) = text {
            // Keyed by the node's head (`job warm-cache`): one job in every environment.
            let key = text.split(" {").next().unwrap_or(&text).split(" schedule=").next().unwrap_or(&text).to_string();
            cx.node(key, text);
            cx.claim(i, "", "config");
        }
    }
}

fn config_map(o: &Object) -> Option<String> {
    if o.value.get("binaryData").is_some() {
        return None;
    }
    let (name, hash) = match unhashed(&o.name) {
        Some(base) => (base, ""),
        None => (o.name.as_str(), " hash=#false"),
    };
    let data = o.value.get("data").and_then(Value::as_object)?;
    let mut lines = Vec::new();
    for (k, v) in data {
        lines.push(format!("literal {} {}", s(k), s(v.as_str()?)));
    }
    Some(format!("config-map {}{hash} {{\n    {}\n}}", kdl::name(name), lines.join("\n    ")))
}

fn external_secret(o: &Object) -> Option<String> {
    let v = &o.value;
    let mut head = format!("external-secret {}", kdl::name(&o.name));
    head.push_str(&format!(" store={}", s(v.pointer("/spec/secretStoreRef/name")?.as_str()?)));
    match v.pointer("/spec/secretStoreRef/kind").and_then(Value::as_str) {
        Some("SecretStore") | None => {}
        Some(k) => head.push_str(&format!(" store-kind={}", s(k))),
    }
    if let Some(r) = v.pointer("/spec/refreshInterval").and_then(Value::as_str).filter(|r| *r != "1h") {
        head.push_str(&format!(" refresh={}", s(r)));
    }
    let mut lines = Vec::new();
    for d in v.pointer("/spec/data").and_then(Value::as_array).into_iter().flatten() {
        let mut line =
            format!("key {} remote={}", s(d.get("secretKey")?.as_str()?), s(d.pointer("/remoteRef/key")?.as_str()?));
        for (field, prop) in [("property", "property"), ("version", "version")] {
            if let Some(x) = d.pointer(&format!("/remoteRef/{field}")).and_then(Value::as_str) {
                line.push_str(&format!(" {prop}={}", s(x)));
            }
        }
        lines.push(line);
    }
    for d in v.pointer("/spec/dataFrom").and_then(Value::as_array).into_iter().flatten() {
        lines.push(format!("extract {}", s(d.pointer("/extract/key")?.as_str()?)));
    }
    Some(format!("{head} {{\n    {}\n}}", lines.join("\n    ")))
}
