//! The `ci` block: `pipeline node=20 { … }`, the CI/CD settings of a
//! service (docs/pipeline.md).

use kdl::{KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Ci, Runtime, Stage, SvccInstall, UserTemplate};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "pipeline",
    order: 31,
    summary: "The service's CI/CD: a GitHub workflow, a Dockerfile and deploy.sh",
    doc: "language.md#pipeline",
    // The names of `Runtime::ALL`.
    props: &["node"],
    place: Place::SERVICE,
    children: Some(&PIPELINE),
    elsewhere,
    ..Node::new(|n, d, c| c.ci = Some(pipeline(n, d)))
}];

/// Children of `pipeline`, in documentation order.
const PIPELINE: &[Node<Ci>] = &[
    Node {
        name: "branch",
        summary: "The branch pushes deploy from and pull requests target (default main)",
        doc: "pipeline.md#syntax",
        args: "BRANCH",
        ..Node::new(|n, d, p| p.branch = one_string(n, d, "a branch name", "write `branch \"main\"`"))
    },
    Node {
        name: "tags",
        summary: "Tag pushes that also build and deploy (default \"v*\"; #false for none)",
        doc: "pipeline.md#syntax",
        args: "PATTERN|#false",
        ..Node::new(tags)
    },
    Node {
        name: "lint",
        summary: "The lint gate (on by default)",
        doc: "pipeline.md#syntax",
        args: "[#true|#false]",
        ..Node::new(|n, d, p| p.lint = switch(n, d))
    },
    Node {
        name: "type-check",
        summary: "The type-check gate (on by default)",
        doc: "pipeline.md#syntax",
        args: "[#true|#false]",
        ..Node::new(|n, d, p| p.type_check = switch(n, d))
    },
    Node {
        name: "audit",
        summary: "The dependency audit gate (on by default)",
        doc: "pipeline.md#syntax",
        args: "[#true|#false]",
        ..Node::new(|n, d, p| p.audit = switch(n, d))
    },
    Node {
        name: "unit-tests",
        summary: "The unit tests, with coverage (on by default)",
        doc: "pipeline.md#syntax",
        args: "[#true|#false]",
        props: &["coverage"],
        ..Node::new(unit_tests)
    },
    Node {
        name: "integration-tests",
        summary: "Integration tests against service containers (postgres, redis, …)",
        doc: "pipeline.md#syntax",
        children: Some(&INTEGRATION_SERVICES),
        ..Node::new(integration_tests)
    },
    Node {
        name: "platforms",
        summary: "The image's platforms (default linux/amd64 and linux/arm64)",
        doc: "pipeline.md#syntax",
        args: "OS/ARCH…",
        ..Node::new(platforms)
    },
    Node {
        name: "scan",
        summary: "The image vulnerability scan (on by default)",
        doc: "pipeline.md#syntax",
        args: "[#true|#false]",
        ..Node::new(|n, d, p| p.scan = switch(n, d))
    },
    Node {
        name: "install-svcc",
        summary: "How CI installs svcc: a checked binary, one pinned commit, or svcc's action at one commit",
        doc: "pipeline.md#syntax",
        props: &["url", "sha256", "git", "action", "rev"],
        ..Node::new(|n, d, p| p.install_svcc = install_svcc(n, d))
    },
    Node {
        name: "deploy",
        summary: "A deploy job for an environment, in promotion order",
        doc: "pipeline.md#syntax",
        args: "ENVIRONMENT",
        repeat: true,
        ..Node::new(deploy)
    },
    Node {
        name: "e2e",
        summary: "End-to-end tests against the environment deployed just before",
        doc: "pipeline.md#syntax",
        props: &["base-url"],
        repeat: true,
        ..Node::new(e2e)
    },
    Node {
        name: "smoke",
        summary: "An HTTP check after the deploy just before",
        doc: "pipeline.md#syntax",
        args: "URL",
        repeat: true,
        ..Node::new(smoke)
    },
    Node {
        name: "template",
        summary: "Render a handlebars template of yours into the pipeline folder",
        doc: "pipeline.md#syntax",
        args: "FILE",
        props: &["to"],
        repeat: true,
        ..Node::new(template)
    },
];

/// The service containers `integration-tests` knows, with their health
/// checks (`ci::runtime` holds the details).
pub const INTEGRATION_SERVICES: &[Node<Services>] = &[
    Node {
        name: "postgres",
        summary: "A PostgreSQL container; `DATABASE_URL` for the tests",
        doc: "pipeline.md#syntax",
        args: "VERSION",
        ..Node::new(|n, d, s| service(n, d, s, "15"))
    },
    Node {
        name: "redis",
        summary: "A Redis container; `REDIS_URL` for the tests",
        doc: "pipeline.md#syntax",
        args: "VERSION",
        ..Node::new(|n, d, s| service(n, d, s, "7"))
    },
    Node {
        name: "mysql",
        summary: "A MySQL container; `MYSQL_URL` for the tests",
        doc: "pipeline.md#syntax",
        args: "VERSION",
        ..Node::new(|n, d, s| service(n, d, s, "7"))
    },
    Node {
        name: "mongo",
        summary: "A MongoDB container; `MONGODB_URL` for the tests",
        doc: "pipeline.md#syntax",
        args: "VERSION",
        ..Node::new(|n, d, s| service(n, d, s, "7"))
    },
];

/// The service containers of `integration-tests`: each name and version.
pub type Services = Vec<(Spanned<String>, Spanned<String>)>;

fn pipeline(node: &KdlNode, diags: &mut Diagnostics) -> Ci {
    let mut p = Ci {
        node: name_span(node),
        runtime: None,
        branch: None,
        tags: None,
        lint: None,
        type_check: None,
        audit: None,
        unit_tests: None,
        coverage: None,
        integration: None,
        platforms: None,
        scan: None,
        install_svcc: None,
        stages: Vec::new(),
        templates: Vec::new(),
    };
    let mut r = NodeReader::new(node);
    for (key, runtime) in Runtime::ALL {
        if let Some(e) = r.prop(key)
            && let Some(v) = reader::text(diags, e)
        {
            // The version lands in the Dockerfile's `FROM` and the workflow.
            match values::check_version(&v.value) {
                Ok(()) => p.runtime = Some((*runtime, v)),
                Err(why) => diags.push(reader::invalid_name(
                    v.span,
                    "runtime version",
                    &v.value.escape_debug().to_string(),
                    &why,
                )),
            }
        }
    }
    r.finish(diags);
    node::decode_children(PIPELINE, node, Twice::InParent, &mut p, diags);
    p
}

/// A pipeline in an environment, a preset or a defaults file.
fn elsewhere(node: &KdlNode, parent: &str, place: Place, diags: &mut Diagnostics) {
    let d = if place == Place::ENVIRONMENT {
        Diagnostic::error(Code::UnknownNode, "`pipeline` cannot be set per environment")
            .at(name_span(node), "inside an environment")
            .help("write one `pipeline { … }` in `service`; its `deploy ENV` lines name the environments")
    } else {
        Diagnostic::error(Code::UnknownNode, format!("a {parent} cannot hold a pipeline"))
            .at(name_span(node), "a pipeline belongs to one service")
            .help("write the `pipeline { … }` block in the service's own file")
    };
    diags.push(d);
}

/// `tags "v*"` or `tags #false`.
fn tags(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    p.tags = match r.arg(0) {
        Some(e) if matches!(e.value(), KdlValue::Bool(false)) => Some(Spanned::new(None, reader::value_span(e))),
        Some(e) => reader::string(diags, e).map(|s| s.map(Some)),
        None => {
            diags.push(missing(r.name_span(), "a tag pattern", "write `tags \"v*\"` or `tags #false`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
}

/// `unit-tests #false`, `unit-tests coverage=#false`.
fn unit_tests(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    p.unit_tests = r.arg(0).and_then(|e| reader::boolean(diags, e));
    p.coverage = r.prop("coverage").and_then(|e| reader::boolean(diags, e));
    if p.unit_tests.is_none() {
        p.unit_tests = Some(Spanned::new(true, r.name_span()));
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `integration-tests { postgres 15; redis 7 }`.
fn integration_tests(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let r = NodeReader::new(node);
    r.finish(diags);
    let mut services = Services::new();
    node::decode_children(INTEGRATION_SERVICES, node, Twice::Decode, &mut services, diags);
    p.integration = Some(services);
}

/// `postgres 15`: one service container (`example` is a version for the help).
fn service(node: &KdlNode, diags: &mut Diagnostics, services: &mut Services, example: &str) {
    let sname = node.name().value();
    if let Some((first, _)) = services.iter().find(|(n, _)| n.value == sname) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{sname}` is listed twice"))
                .at(name_span(node), "listed again here")
                .also(first.span, "first listed here"),
        );
        return;
    }
    let mut r = NodeReader::new(node);
    let version = match r.arg(0) {
        Some(e) => reader::text(diags, e),
        None => {
            diags.push(missing(r.name_span(), "an image version", format!("write `{sname} {example}`")));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    if let Some(v) = version {
        match values::check_image_tag(&v.value) {
            Ok(()) => services.push((Spanned::new(sname.to_string(), name_span(node)), v)),
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image tag", v.value))
                    .at(v.span, why),
            ),
        }
    }
}

/// `platforms "linux/amd64" "linux/arm64"`.
fn platforms(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    let args = r.rest_args(0);
    let mut list = Vec::new();
    for e in &args {
        if let Some(s) = reader::string(diags, e) {
            if s.value.split('/').count() < 2 || s.value.contains(',') || s.value.contains(' ') {
                diags.push(
                    Diagnostic::error(Code::InvalidChoice, format!("`{}` is not a platform", s.value))
                        .at(s.span, "expected OS/ARCH")
                        .help("write one platform per argument: `platforms \"linux/amd64\" \"linux/arm64\"`"),
                );
            } else {
                list.push(s.value);
            }
        }
    }
    if args.is_empty() {
        diags.push(missing(r.name_span(), "a platform", "write `platforms \"linux/amd64\" \"linux/arm64\"`"));
    } else if list.len() == args.len() {
        p.platforms = Some(Spanned::new(list, r.name_span()));
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `deploy staging`.
fn deploy(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    match r.arg(0) {
        Some(e) => {
            if let Some(env) = reader::name(diags, e, "environment name", values::check_dns1123_label) {
                p.stages.push(Stage::Deploy(env));
            }
        }
        None => diags.push(missing(r.name_span(), "an environment", "write `deploy staging`")),
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `e2e base-url="https://staging.example.com"`.
fn e2e(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    match r.prop("base-url").and_then(|e| url(diags, e)) {
        Some(base_url) => p.stages.push(Stage::E2e { node: r.name_span(), base_url }),
        None if r.node.entries().iter().all(|e| e.name().is_none_or(|k| k.value() != "base-url")) => {
            diags.push(missing(r.name_span(), "a base URL", "write `e2e base-url=\"https://staging.example.com\"`"));
        }
        None => {}
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `smoke "https://api.example.com/health"`.
fn smoke(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    match r.arg(0) {
        Some(e) => {
            if let Some(u) = url(diags, e) {
                p.stages.push(Stage::Smoke { node: r.name_span(), url: u });
            }
        }
        None => diags.push(missing(r.name_span(), "a URL", "write `smoke \"https://api.example.com/health\"`")),
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `template "./ci/notify.sh.hbs" to="notify.sh"`.
fn template(node: &KdlNode, diags: &mut Diagnostics, p: &mut Ci) {
    let mut r = NodeReader::new(node);
    let path = match r.arg(0) {
        Some(e) => reader::string(diags, e),
        None => {
            diags.push(missing(
                r.name_span(),
                "a template file",
                "write `template \"./ci/notify.sh.hbs\" to=\"notify.sh\"`",
            ));
            None
        }
    };
    let to = match r.prop("to") {
        Some(e) => reader::string(diags, e).and_then(|t| output_name(diags, t)),
        None => {
            diags.push(missing(
                r.name_span(),
                "an output file",
                "add `to=\"notify.sh\"`: the file under `<service>/pipeline/`",
            ));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    let (Some(path), Some(to)) = (path, to) else { return };
    if let Some(prev) = p.templates.iter().find(|t| t.to.value == to.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("two templates render `{}`", to.value))
                .at(to.span, "rendered again here")
                .also(prev.to.span, "first rendered here")
                .help("give each template its own `to=` file"),
        );
    } else {
        p.templates.push(UserTemplate { path, to });
    }
}

/// Files svcc writes itself into `<service>/pipeline/` (the ownership
/// marker `svcc build -o` adds included).
pub const GENERATED: &[&str] = &["Dockerfile", "deploy.sh", ".github/workflows", crate::diff::OWNED_MARKER];

/// A relative file name under the pipeline folder: no `..`, no absolute
/// path, not one of the generated files.
fn output_name(diags: &mut Diagnostics, t: Spanned<String>) -> Option<Spanned<String>> {
    let v = &t.value;
    let bad = v.is_empty()
        || v.starts_with('/')
        || v.contains('\\')
        || v.ends_with('/')
        || v.split('/').any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        diags.push(
            Diagnostic::error(Code::InvalidName, format!("`{v}` is not a file name under the pipeline folder"))
                .at(t.span, "expected a relative path without `.` or `..` parts")
                .help("write a path such as \"notify.sh\" or \"scripts/notify.sh\""),
        );
        return None;
    }
    if GENERATED.iter().any(|g| v == g || v.starts_with(&format!("{g}/"))) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{v}` is a file svcc generates"))
                .at(t.span, "svcc writes this file itself")
                .help("render the template to another file name"),
        );
        return None;
    }
    Some(t)
}

/// `lint #false`: a gate switched on or off (`lint` alone means on).
fn switch(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::boolean(diags, e),
        None => Some(Spanned::new(true, r.name_span())),
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

fn one_string(node: &KdlNode, diags: &mut Diagnostics, what: &str, help: &str) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::string(diags, e),
        None => {
            diags.push(missing(r.name_span(), what, help));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// An `http://` or `https://` URL ([`values::check_http_url`]): it reaches
/// the workflow (as an `env:` value) and `curl`.
fn url(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<String>> {
    let s = reader::string(diags, e)?;
    match values::check_http_url(&s.value) {
        Ok(()) => Some(s),
        Err(why) => {
            diags.push(
                Diagnostic::error(
                    Code::InvalidChoice,
                    format!("`{}` is not a usable http(s) URL", s.value.escape_debug()),
                )
                .at(s.span, why)
                .help("write a URL such as \"https://staging-api.example.com\"; percent-encode anything unusual"),
            );
            None
        }
    }
}

/// The three forms of `install-svcc`, for help texts.
const INSTALL_FORMS: &str = "write `install-svcc url=\"https://…/svcc\" sha256=\"<64 hex digits>\"` (a published binary), `install-svcc git=\"https://…\" rev=\"<40 hex digits>\"` (built from that commit) or `install-svcc action=\"OWNER/REPO\" rev=\"<40 hex digits>\"` (svcc's GitHub Action at that commit)";

/// `install-svcc url="https://…" sha256="…"`, `install-svcc git="https://…"
/// rev="…"` or `install-svcc action="OWNER/REPO" rev="…"`: a way to install
/// svcc that names exactly what runs. The old command form (`install-svcc
/// "cargo install …"`) put spec text into the workflow as shell, so it is
/// refused with the new forms as help.
fn install_svcc(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Option<SvccInstall>>> {
    let errors_before = diags.error_count();
    let mut r = NodeReader::new(node);
    let span = r.name_span();
    if let Some(e) = r.arg(0) {
        diags.push(
            Diagnostic::error(Code::UnverifiedInstall, "`install-svcc` no longer takes a command")
                .at(reader::value_span(e), "a command here would run as shell in every deploy job")
                .help(INSTALL_FORMS),
        );
    }
    let mut prop = |key: &'static str, check: &dyn Fn(&str) -> Result<(), String>| {
        let s = r.prop(key).and_then(|e| reader::string(diags, e))?;
        match check(&s.value) {
            Ok(()) => Some(s),
            Err(why) => {
                diags.push(
                    Diagnostic::error(Code::UnverifiedInstall, format!("`{key}` of `install-svcc` is not usable"))
                        .at(s.span, why),
                );
                None
            }
        }
    };
    let url = prop("url", &values::check_https_url);
    let sha = prop("sha256", &|v| values::check_hex(v, 64));
    let git = prop("git", &values::check_https_url);
    let action = prop("action", &check_action_slug);
    let rev = prop("rev", &|v| values::check_hex(v, 40));
    r.finish(diags);
    no_children(diags, node);
    let install = match (url, sha, git, action, rev) {
        (Some(url), Some(sha), None, None, None) => Some(SvccInstall::Url { url: url.value, sha256: sha.value }),
        (None, None, Some(git), None, Some(rev)) => Some(SvccInstall::Git { url: git.value, rev: rev.value }),
        (None, None, None, Some(repo), Some(rev)) => Some(SvccInstall::Action { repo: repo.value, rev: rev.value }),
        _ => {
            // Say what is missing unless a value was already reported.
            if diags.error_count() == errors_before {
                diags.push(
                    Diagnostic::error(
                        Code::UnverifiedInstall,
                        "`install-svcc` needs `url` with `sha256`, `git` with `rev`, or `action` with `rev`",
                    )
                    .at(span, "incomplete")
                    .help(INSTALL_FORMS),
                );
            }
            None
        }
    };
    Some(Spanned::new(install, span))
}

/// A GitHub repository as `OWNER/REPO`, the way `uses:` names an action:
/// the owner is 1–39 letters, digits and single hyphens, not at either
/// end; the repository is 1–100 of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
fn check_action_slug(v: &str) -> Result<(), String> {
    if v.contains('@') {
        return Err("name the repository only: the commit goes in `rev=`".into());
    }
    let Some((owner, repo)) = v.split_once('/') else {
        return Err("expected `OWNER/REPO`, such as \"acme/svcc\"".into());
    };
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    if !owner_ok {
        return Err(format!(
            "`{}` is not a GitHub owner: 1 to 39 letters, digits and single hyphens, not at either end",
            owner.escape_debug()
        ));
    }
    let repo_ok = (1..=100).contains(&repo.len())
        && repo.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && repo != "."
        && repo != "..";
    if !repo_ok {
        return Err(format!(
            "`{}` is not a GitHub repository name: 1 to 100 of `A-Z a-z 0-9 . _ -`",
            repo.escape_debug()
        ));
    }
    Ok(())
}
