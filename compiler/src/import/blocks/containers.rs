//! `container-name`: the service's container, when the input names it otherwise.

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    let Some(name) = cx.text(&format!("{CONTAINER}/name")) else { return };
    // The default is the service's name: no node needed.
    if name != cx.service {
        cx.node("container-name", format!("container-name {}", s(name)));
    }
    cx.claim(0, format!("{CONTAINER}/name"), "containers");
}
