//! `image`: the container image. The tag policy (no `latest`, a real tag
//! for a build) and the image reference.

use super::Cx;
use super::merge::Merger;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Image;
use crate::settings as s;
use crate::source::{Span, Spanned};

/// The container's image.
pub(super) struct ImagePlan {
    /// `repository:tag@digest`, or `repository:unset` when a check-only run has no tag.
    pub reference: String,
    pub span: Span,
    /// The tag, used as the `app.kubernetes.io/version` label.
    pub version: Option<String>,
    pub pull_policy: String,
}

/// Each part separately; a layer that names another repository does not
/// inherit the tag or digest below (they belong to their repository).
pub(super) fn merge(c: &mut Merger<'_>, base: &Option<Image>, over: &Option<Image>) -> Option<Image> {
    match (base, over) {
        (Some(b), Some(o)) => {
            let Image { node: _, repository: b_repository, tag: b_tag, digest: b_digest, pull_policy: b_pull_policy } =
                b;
            let Image { node, repository, tag, digest, pull_policy } = o;
            let other_repository = repository.is_some();
            Some(Image {
                node: *node,
                repository: c.pick(&s::IMAGE, repository, b_repository),
                tag: if other_repository { tag.clone() } else { c.pick(&s::IMAGE_TAG, tag, b_tag) },
                digest: if other_repository { digest.clone() } else { c.pick(&s::IMAGE_DIGEST, digest, b_digest) },
                pull_policy: c.pick(&s::IMAGE_PULL_POLICY, pull_policy, b_pull_policy),
            })
        }
        (None, Some(o)) => {
            c.set_all(&[&s::IMAGE, &s::IMAGE_TAG, &s::IMAGE_DIGEST, &s::IMAGE_PULL_POLICY]);
            Some(o.clone())
        }
        (b, None) => b.clone(),
    }
}

pub(super) fn resolve(cx: &Cx<'_>, image: Option<&Image>, diags: &mut Diagnostics) -> ImagePlan {
    let Some(Image { repository: Some(repo), tag, digest, pull_policy, node: _ }) = image else {
        let at = image.map_or(cx.origin, |i| i.node);
        let (what, to) = match cx.container {
            Some(c) => (format!("container `{c}`"), "to the container's block"),
            None => ("the service".to_string(), "to the service"),
        };
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("{what} has no image"))
                .at(at, "needs an image")
                .help(format!("add `image \"ghcr.io/acme/my-app\"` {to}")),
        );
        return ImagePlan { reference: String::new(), span: cx.origin, version: None, pull_policy: String::new() };
    };
    // `--image-tag` and per-service tags name the service's own image; the
    // pod's other containers run images the spec pins.
    let given = match cx.container {
        Some(_) => None,
        None => cx.opts.service_tags.get(cx.service).or(cx.opts.image_tag.as_ref()),
    };
    let tag: Option<Spanned<String>> = match given {
        Some(t) => Some(Spanned::new(t.clone(), repo.span)),
        None => tag.clone(),
    };
    check_tag(cx, tag.as_ref(), digest.is_some(), repo.span, diags);
    let mut reference = repo.value.clone();
    let version = tag.as_ref().map(|t| t.value.clone());
    match (&tag, digest) {
        (Some(t), _) => {
            reference.push(':');
            reference.push_str(&t.value);
        }
        (None, None) => reference.push_str(":unset"),
        _ => {}
    }
    if let Some(d) = digest {
        reference.push('@');
        reference.push_str(&d.value);
    }
    let pull_policy = pull_policy.as_ref().map_or("IfNotPresent".to_string(), |p| p.value.clone());
    ImagePlan { reference, span: repo.span, version, pull_policy }
}

/// SVC0306: never `latest`, and a build needs a tag (or a digest).
fn check_tag(cx: &Cx<'_>, tag: Option<&Spanned<String>>, digest: bool, repo: Span, diags: &mut Diagnostics) {
    if let Some(t) = tag {
        if t.value == "latest" {
            diags.push(
                Diagnostic::error(Code::ImageTag, "the image tag `latest` is not allowed")
                    .at(t.span, "`latest` moves under you")
                    .help("pin a version or a commit (`--image-tag 1.4.2` or `--image-tag $GIT_SHA`)")
                    .note("with `latest`, two nodes can run different code and a rollback does not roll back"),
            );
        }
    } else if !digest && (cx.opts.require_tag || cx.container.is_some()) {
        if let Some(c) = cx.container {
            diags.push(
                Diagnostic::error(Code::ImageTag, format!("container `{c}` has no image tag"))
                    .at(repo, "this image has no tag")
                    .help("pin one in the spec: `image \"…\" tag=\"1.4.2\"` (`--image-tag` sets the service's own image only)")
                    .note("svcc never falls back to `latest`"),
            );
            return;
        }
        let envs = if cx.named_env { format!(" for environment `{}`", cx.env) } else { String::new() };
        diags.push(
            Diagnostic::error(Code::ImageTag, format!("no image tag{envs}"))
                .at(repo, "this image has no tag")
                .help(
                    "pass `--image-tag TAG` (e.g. the commit SHA), or pin one in the spec: `image \"…\" tag=\"1.4.2\"`",
                )
                .note("svcc never falls back to `latest`"),
        );
    }
}
