//! `image`: the first container's image and pull policy.

use serde_json::Value;

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    let Some(c) = cx.at(CONTAINER) else { return };
    let Some(text) = text(c) else { return };
    if c.get("imagePullPolicy").is_some() {
        cx.claim(0, format!("{CONTAINER}/imagePullPolicy"), "image");
    }
    cx.claim(0, format!("{CONTAINER}/image"), "image");
    cx.node("image", text);
}

/// `image …` of a container.
pub fn text(c: &Value) -> Option<String> {
    let image = c.get("image")?.as_str()?;
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    let mut text = format!("image {}", s(repo));
    if let Some(t) = tag {
        text.push_str(&format!(" tag={}", s(t)));
    }
    if let Some(d) = digest {
        text.push_str(&format!(" digest={}", s(d)));
    }
    if let Some(p) = c.get("imagePullPolicy").and_then(Value::as_str) {
        text.push_str(&format!(" pull-policy={}", s(p)));
    }
    Some(text)
}
