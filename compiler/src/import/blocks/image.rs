//! `image`: the first container's image and pull policy.

use serde_json::Value;

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    let Some(c) = cx.at(CONTAINER) else { return };
    let Some(text) = text(c, true) else { return };
    if c.get("imagePullPolicy").is_some() {
        cx.claim(0, format!("{CONTAINER}/imagePullPolicy"), "image");
    }
    cx.claim(0, format!("{CONTAINER}/image"), "image");
    cx.node("image", text);
}

/// The tag of the service's own image as `image` writes it (`latest` is
/// left out): the version label svcc derives when `version` says none.
pub fn tag(c: &Value) -> Option<&str> {
    crate::values::split_image(c.get("image")?.as_str()?).1.filter(|t| *t != "latest")
}

/// The tag of another container's image when the input has none or
/// `latest`, which svcc refuses (SVC0306): a patch writes the input's image.
pub const PLACEHOLDER_TAG: &str = "svcc-import-placeholder";

/// `image …` of a container. A `latest` tag is left out of the service's
/// own image (svcc refuses it; a patch writes the input's image), and
/// another container's untagged or `latest` image gets a placeholder tag.
pub fn text(c: &Value, main: bool) -> Option<String> {
    let (repo, tag, digest) = crate::values::split_image(c.get("image")?.as_str()?);
    let mut text = format!("image {}", s(repo));
    let tag = match tag {
        Some("latest") | None if !main && digest.is_none() => Some(PLACEHOLDER_TAG),
        Some("latest") => None,
        t => t,
    };
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
