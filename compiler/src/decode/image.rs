//! The `image` block: the container image.

use kdl::KdlNode;

use super::body::Contents;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Image;
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "image",
    place: Place::ANY_CONTAINER,
    order: 1,
    summary: "The container image: repository, tag or digest, and pull policy",
    doc: "language.md#image",
    args: "REPOSITORY[:TAG][@DIGEST]",
    props: &["tag", "digest", "pull-policy"],
    ..Node::new(|n, d, c| c.body.image = image(n, d))
}];

fn image(node: &KdlNode, diags: &mut Diagnostics) -> Option<Image> {
    let mut r = NodeReader::new(node);
    let mut img = Image { node: name_span(node), repository: None, tag: None, digest: None, pull_policy: None };
    if let Some(e) = r.arg(0)
        && let Some(s) = reader::string(diags, e)
    {
        let span = s.span;
        let (repo, tag, digest) = values::split_image(&s.value);
        match values::check_repository(repo) {
            Ok(()) => img.repository = Some(Spanned::new(repo.to_string(), span)),
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image reference", s.value))
                    .at(span, why)
                    .help("write an image such as \"ghcr.io/acme/api\" (the tag comes from `tag=` or `--image-tag`)"),
            ),
        }
        if let Some(t) = tag {
            match values::check_image_tag(t) {
                Ok(()) => img.tag = Some(Spanned::new(t.to_string(), span)),
                Err(why) => diags.push(
                    Diagnostic::error(Code::InvalidImage, format!("`{t}` is not a valid image tag")).at(span, why),
                ),
            }
        }
        if let Some(d) = digest {
            match values::check_digest(d) {
                Ok(()) => img.digest = Some(Spanned::new(d.to_string(), span)),
                Err(why) => diags.push(
                    Diagnostic::error(Code::InvalidImage, format!("`{d}` is not a valid image digest")).at(span, why),
                ),
            }
        }
    }
    if let Some(e) = r.prop("tag")
        && let Some(t) = reader::text(diags, e)
    {
        match values::check_image_tag(&t.value) {
            Ok(()) => {
                if let Some(prev) = &img.tag {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, "the image tag is given twice")
                            .at(t.span, "tag given here")
                            .also(prev.span, "and in the image reference")
                            .help("keep one of them"),
                    );
                }
                img.tag = Some(t);
            }
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image tag", t.value))
                    .at(t.span, why),
            ),
        }
    }
    if let Some(e) = r.prop("digest")
        && let Some(d) = reader::string(diags, e)
    {
        match values::check_digest(&d.value) {
            Ok(()) => {
                if let Some(prev) = &img.digest {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, "the image digest is given twice")
                            .at(d.span, "digest given here")
                            .also(prev.span, "and in the image reference")
                            .help("keep one of them"),
                    );
                }
                img.digest = Some(d);
            }
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image digest", d.value))
                    .at(d.span, why),
            ),
        }
    }
    img.pull_policy =
        r.prop("pull-policy").and_then(|e| reader::choice(diags, e, &["Always", "IfNotPresent", "Never"]));
    r.finish(diags);
    no_children(diags, node);
    if img.repository.is_none() && img.tag.is_none() && img.digest.is_none() && img.pull_policy.is_none() {
        if node.entries().is_empty() {
            diags.push(missing(name_span(node), "an image", "write `image \"ghcr.io/acme/api\"`"));
        }
        return None;
    }
    Some(img)
}
