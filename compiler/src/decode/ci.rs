//! `pipeline node=20 { … }`: the CI/CD settings of a service (docs/pipeline.md).

use kdl::{KdlNode, KdlValue};

use super::reader::{self, NodeReader, children, missing, name_span, no_children, unknown_node};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Ci, Runtime, Stage, SvccInstall, UserTemplate};
use crate::source::{Span, Spanned};
use crate::values;

/// Children of `pipeline`, in documentation order.
pub const PIPELINE_NODES: &[&str] = &[
    "branch",
    "tags",
    "lint",
    "type-check",
    "audit",
    "unit-tests",
    "integration-tests",
    "platforms",
    "scan",
    "install-svcc",
    "deploy",
    "e2e",
    "smoke",
    "template",
];

/// Service containers `integration-tests` knows, with their health checks
/// (lowering holds the details).
pub const INTEGRATION_SERVICES: &[&str] = &["postgres", "redis", "mysql", "mongo"];

const REPEATABLE: &[&str] = &["deploy", "e2e", "smoke", "template"];

pub fn pipeline(node: &KdlNode, diags: &mut Diagnostics) -> Ci {
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
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for child in children(node) {
        let name = child.name().value();
        if !PIPELINE_NODES.contains(&name) {
            unknown_node(diags, child, "pipeline", PIPELINE_NODES);
            continue;
        }
        if !REPEATABLE.contains(&name) {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                diags.push(
                    Diagnostic::error(Code::Duplicate, format!("`{name}` is set twice in `pipeline`"))
                        .at(name_span(child), "set again here")
                        .also(*first, "first set here")
                        .help("keep one of them"),
                );
                continue;
            }
            seen.push((name, name_span(child)));
        }
        match name {
            "branch" => p.branch = one_string(child, diags, "a branch name", "write `branch \"main\"`"),
            "tags" => {
                let mut r = NodeReader::new(child);
                p.tags = match r.arg(0) {
                    Some(e) if matches!(e.value(), KdlValue::Bool(false)) => {
                        Some(Spanned::new(None, reader::value_span(e)))
                    }
                    Some(e) => reader::string(diags, e).map(|s| s.map(Some)),
                    None => {
                        diags.push(missing(r.name_span(), "a tag pattern", "write `tags \"v*\"` or `tags #false`"));
                        None
                    }
                };
                r.finish(diags);
                no_children(diags, child);
            }
            "lint" => p.lint = switch(child, diags),
            "type-check" => p.type_check = switch(child, diags),
            "audit" => p.audit = switch(child, diags),
            "scan" => p.scan = switch(child, diags),
            "unit-tests" => {
                let mut r = NodeReader::new(child);
                p.unit_tests = r.arg(0).and_then(|e| reader::boolean(diags, e));
                p.coverage = r.prop("coverage").and_then(|e| reader::boolean(diags, e));
                if p.unit_tests.is_none() {
                    p.unit_tests = Some(Spanned::new(true, r.name_span()));
                }
                r.finish(diags);
                no_children(diags, child);
            }
            "integration-tests" => {
                let r = NodeReader::new(child);
                r.finish(diags);
                let mut services: Vec<(Spanned<String>, Spanned<String>)> = Vec::new();
                for svc in children(child) {
                    let sname = svc.name().value();
                    if !INTEGRATION_SERVICES.contains(&sname) {
                        unknown_node(diags, svc, "integration-tests", INTEGRATION_SERVICES);
                        continue;
                    }
                    if let Some((first, _)) = services.iter().find(|(n, _)| n.value == sname) {
                        diags.push(
                            Diagnostic::error(Code::Duplicate, format!("`{sname}` is listed twice"))
                                .at(name_span(svc), "listed again here")
                                .also(first.span, "first listed here"),
                        );
                        continue;
                    }
                    let mut sr = NodeReader::new(svc);
                    let version = match sr.arg(0) {
                        Some(e) => reader::text(diags, e),
                        None => {
                            diags.push(missing(
                                sr.name_span(),
                                "an image version",
                                format!("write `{sname} {}`", if sname == "postgres" { "15" } else { "7" }),
                            ));
                            None
                        }
                    };
                    sr.finish(diags);
                    no_children(diags, svc);
                    if let Some(v) = version {
                        match values::check_image_tag(&v.value) {
                            Ok(()) => services.push((Spanned::new(sname.to_string(), name_span(svc)), v)),
                            Err(why) => diags.push(
                                Diagnostic::error(
                                    Code::InvalidImage,
                                    format!("`{}` is not a valid image tag", v.value),
                                )
                                .at(v.span, why),
                            ),
                        }
                    }
                }
                p.integration = Some(services);
            }
            "platforms" => {
                let mut r = NodeReader::new(child);
                let args = r.rest_args(0);
                let mut list = Vec::new();
                for e in &args {
                    if let Some(s) = reader::string(diags, e) {
                        if s.value.split('/').count() < 2 || s.value.contains(',') || s.value.contains(' ') {
                            diags.push(
                                Diagnostic::error(Code::InvalidChoice, format!("`{}` is not a platform", s.value))
                                    .at(s.span, "expected OS/ARCH")
                                    .help(
                                        "write one platform per argument: `platforms \"linux/amd64\" \"linux/arm64\"`",
                                    ),
                            );
                        } else {
                            list.push(s.value);
                        }
                    }
                }
                if args.is_empty() {
                    diags.push(missing(
                        r.name_span(),
                        "a platform",
                        "write `platforms \"linux/amd64\" \"linux/arm64\"`",
                    ));
                } else if list.len() == args.len() {
                    p.platforms = Some(Spanned::new(list, r.name_span()));
                }
                r.finish(diags);
                no_children(diags, child);
            }
            "install-svcc" => p.install_svcc = install_svcc(child, diags),
            "deploy" => {
                let mut r = NodeReader::new(child);
                match r.arg(0) {
                    Some(e) => {
                        if let Some(env) = reader::name(diags, e, "environment name", values::check_dns1123_label) {
                            p.stages.push(Stage::Deploy(env));
                        }
                    }
                    None => diags.push(missing(r.name_span(), "an environment", "write `deploy staging`")),
                }
                r.finish(diags);
                no_children(diags, child);
            }
            "e2e" => {
                let mut r = NodeReader::new(child);
                match r.prop("base-url").and_then(|e| url(diags, e)) {
                    Some(base_url) => p.stages.push(Stage::E2e { node: r.name_span(), base_url }),
                    None if r.node.entries().iter().all(|e| e.name().is_none_or(|k| k.value() != "base-url")) => {
                        diags.push(missing(
                            r.name_span(),
                            "a base URL",
                            "write `e2e base-url=\"https://staging.example.com\"`",
                        ));
                    }
                    None => {}
                }
                r.finish(diags);
                no_children(diags, child);
            }
            "smoke" => {
                let mut r = NodeReader::new(child);
                match r.arg(0) {
                    Some(e) => {
                        if let Some(u) = url(diags, e) {
                            p.stages.push(Stage::Smoke { node: r.name_span(), url: u });
                        }
                    }
                    None => {
                        diags.push(missing(r.name_span(), "a URL", "write `smoke \"https://api.example.com/health\"`"))
                    }
                }
                r.finish(diags);
                no_children(diags, child);
            }
            "template" => {
                let mut r = NodeReader::new(child);
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
                no_children(diags, child);
                if let (Some(path), Some(to)) = (path, to) {
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
            }
            _ => unknown_node(diags, child, "pipeline", PIPELINE_NODES),
        }
    }
    p
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

/// `install-svcc url="https://…" sha256="…"` or `install-svcc git="https://…"
/// rev="…"`: a way to install svcc that names exactly what runs. The old
/// command form (`install-svcc "cargo install …"`) put spec text into the
/// workflow as shell, so it is refused with the new forms as help.
fn install_svcc(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Option<SvccInstall>>> {
    let errors_before = diags.error_count();
    let mut r = NodeReader::new(node);
    let span = r.name_span();
    if let Some(e) = r.arg(0) {
        diags.push(
            Diagnostic::error(Code::UnverifiedInstall, "`install-svcc` no longer takes a command")
                .at(reader::value_span(e), "a command here would run as shell in every deploy job")
                .help("write `install-svcc url=\"https://…/svcc\" sha256=\"…\"` or `install-svcc git=\"https://…\" rev=\"<commit>\"`"),
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
    let rev = prop("rev", &|v| values::check_hex(v, 40));
    r.finish(diags);
    no_children(diags, node);
    let install = match (url, sha, git, rev) {
        (Some(url), Some(sha), None, None) => Some(SvccInstall::Url { url: url.value, sha256: sha.value }),
        (None, None, Some(git), Some(rev)) => Some(SvccInstall::Git { url: git.value, rev: rev.value }),
        _ => {
            // Say what is missing unless a value was already reported.
            if diags.error_count() == errors_before {
                diags.push(
                    Diagnostic::error(Code::UnverifiedInstall, "`install-svcc` needs `url` with `sha256`, or `git` with `rev`")
                        .at(span, "incomplete")
                        .help("write `install-svcc url=\"https://…/svcc\" sha256=\"<64 hex digits>\"` or `install-svcc git=\"https://…\" rev=\"<40 hex digits>\"`"),
                );
            }
            None
        }
    };
    Some(Spanned::new(install, span))
}
