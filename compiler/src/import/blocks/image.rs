//! `image`: the first container's image and pull policy.

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    let Some(image) = cx.text(&format!("{CONTAINER}/image")) else { return };
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
    if let Some(p) = cx.text(&format!("{CONTAINER}/imagePullPolicy")) {
        text.push_str(&format!(" pull-policy={}", s(p)));
        cx.claim(0, format!("{CONTAINER}/imagePullPolicy"), "image");
    }
    cx.claim(0, format!("{CONTAINER}/image"), "image");
    cx.node("image", text);
}
