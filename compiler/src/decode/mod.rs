//! Stage 2: `KdlDocument` → [`model::Spec`](crate::model::Spec).
//!
//! A hand-written decoder: every node, argument and property is checked
//! against the language (`docs/language.md`), every value keeps its span, and
//! every problem becomes a diagnostic. Decoding never stops early: an invalid
//! value decodes to `None` and the rest of the file is still read.

mod body;
mod ci;
mod observability;
pub(crate) mod reader;
mod rollout;
mod security;

use kdl::KdlDocument;

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Environment, Preset, PresetKind, Spec};
use crate::source::Span;
use crate::source::Spanned;
use crate::values;
use reader::{NodeReader, children, name_span};

pub use body::{BODY_NODES, TOP_ONLY};

/// Decode a parsed document. Returns `None` if there is no usable `service`.
pub fn decode(doc: &KdlDocument, diags: &mut Diagnostics) -> Option<Spec> {
    forbid_expressions(doc.nodes(), diags);
    crate::secrets::scan(doc, diags);
    let mut spec: Option<Spec> = None;
    let mut first_service: Option<Span> = None;
    for node in doc.nodes() {
        let name = node.name().value();
        if name == "preset" || name == "defaults" {
            diags.push(
                Diagnostic::error(Code::MissingService, format!("this file holds a `{name}`, not a `service`"))
                    .at(name_span(node), "not a service")
                    .help(if name == "preset" {
                        "use it from a service: `use \"./path/to/this.kdl\"`; `svcc build` skips files under `presets/` folders and files named `_*.kdl`"
                    } else {
                        "name the file `_defaults.kdl`: it then applies to every service below its folder"
                    }),
            );
            first_service.get_or_insert(name_span(node));
            continue;
        }
        if name != "service" {
            let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown top-level node `{name}`"))
                .at(name_span(node), "expected `service`");
            d = match did_you_mean(name, &["service"]) {
                Some(_) => d.help("did you mean `service`?"),
                None => {
                    if BODY_NODES.contains(&name) {
                        d.help(format!("`{name}` belongs inside a `service NAME {{ … }}` block"))
                    } else {
                        d.help("a spec file holds one `service NAME { … }` block")
                    }
                }
            };
            diags.push(d);
            continue;
        }
        if let Some(first) = first_service {
            diags.push(
                Diagnostic::error(Code::Duplicate, "a spec file holds exactly one `service`")
                    .at(name_span(node), "second service")
                    .also(first, "first service here")
                    .help("put each service in its own file; `svcc build` takes several files"),
            );
            continue;
        }
        first_service = Some(name_span(node));
        spec = decode_service(node, diags);
    }
    if first_service.is_none() {
        let end = doc.span().offset() + doc.span().len();
        diags.push(
            Diagnostic::error(Code::MissingService, "no `service` in this file")
                .at(Span::new(0, end.min(1)), "expected `service NAME { … }`")
                .help("start the file with `service my-app {` and put the settings inside the block"),
        );
    }
    spec
}

fn decode_service(node: &kdl::KdlNode, diags: &mut Diagnostics) -> Option<Spec> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "service name", values::check_dns1035_label),
        None => {
            diags.push(reader::missing(r.name_span(), "a service name", "write `service my-app { … }`"));
            None
        }
    };
    r.finish(diags);
    let mut environments: Vec<Environment> = Vec::new();
    let mut uses = Vec::new();
    let mut ci = None;
    let body = body::decode_body(children(node), "service", true, diags, &mut |env_node, diags| {
        if env_node.name().value() == "use" {
            uses.extend(decode_use(env_node, diags));
            return;
        }
        if env_node.name().value() == "pipeline" {
            ci = Some(self::ci::pipeline(env_node, diags));
            return;
        }
        if let Some(env) = decode_environment(env_node, diags) {
            if let Some(prev) = environments.iter().find(|e| e.name.value == env.name.value) {
                diags.push(
                    Diagnostic::error(Code::Duplicate, format!("environment `{}` is defined twice", env.name.value))
                        .at(env.name.span, "defined again here")
                        .also(prev.name.span, "first defined here")
                        .help("merge the two blocks into one"),
                );
            } else {
                environments.push(env);
            }
        }
    });
    if node.children().is_none() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "the service has no settings")
                .at(name_span(node), "needs a `{ … }` block")
                .help("add at least an image: `service my-app { image \"ghcr.io/acme/my-app\" }`"),
        );
    }
    Some(Spec { name: name?, node: name_span(node), uses, body, environments, ci })
}

/// `use "node-http-api"` or `use "./presets/x.kdl"`.
fn decode_use(node: &kdl::KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let target = match r.arg(0) {
        Some(e) => reader::string(diags, e),
        None => {
            diags.push(reader::missing(
                r.name_span(),
                "a preset",
                "write `use \"node-http-api\"` (standard library) or `use \"./presets/api.kdl\"` (a file)",
            ));
            None
        }
    };
    r.finish(diags);
    reader::no_children(diags, node);
    target
}

/// Decode a preset file (`preset NAME { … }`) or an org defaults file
/// (`defaults { … }`): one node of the expected kind, holding a body.
pub fn decode_preset(doc: &KdlDocument, kind: PresetKind, diags: &mut Diagnostics) -> Option<Preset> {
    crate::secrets::scan(doc, diags);
    let want = match kind {
        PresetKind::Preset => "preset",
        PresetKind::Defaults => "defaults",
    };
    forbid_expressions(doc.nodes(), diags);
    let mut found: Option<Preset> = None;
    for node in doc.nodes() {
        let name = node.name().value();
        if name != want {
            let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown top-level node `{name}`"))
                .at(name_span(node), format!("expected `{want}`"));
            d = match did_you_mean(name, &[want]) {
                Some(_) => d.help(format!("did you mean `{want}`?")),
                None if name == "service" => d.help(format!(
                    "this file is read as a {}; services live in their own files",
                    if kind == PresetKind::Preset { "preset" } else { "defaults file" }
                )),
                None => d.help(format!(
                    "a {want} file holds one `{want}{} {{ … }}` block",
                    if kind == PresetKind::Preset { " NAME" } else { "" }
                )),
            };
            diags.push(d);
            continue;
        }
        if let Some(first) = &found {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("a {want} file holds exactly one `{want}`"))
                    .at(name_span(node), format!("second `{want}`"))
                    .also(first.node, "first one here"),
            );
            continue;
        }
        let mut r = NodeReader::new(node);
        let pname = match kind {
            PresetKind::Preset => match r.arg(0) {
                Some(e) => reader::name(diags, e, "preset name", values::check_dns1123_label),
                None => {
                    diags.push(reader::missing(r.name_span(), "a preset name", "write `preset node-http-api { … }`"));
                    None
                }
            },
            PresetKind::Defaults => None,
        };
        r.finish(diags);
        let mut uses = Vec::new();
        let body = body::decode_body(children(node), want, true, diags, &mut |n, diags| {
            if n.name().value() == "use" {
                uses.extend(decode_use(n, diags));
            } else if n.name().value() == "pipeline" {
                diags.push(
                    Diagnostic::error(Code::UnknownNode, format!("a {want} cannot hold a pipeline"))
                        .at(name_span(n), "a pipeline belongs to one service")
                        .help("write the `pipeline { … }` block in the service's own file"),
                );
            } else {
                diags.push(
                    Diagnostic::error(Code::UnknownNode, format!("a {want} cannot hold environments"))
                        .at(name_span(n), "environment blocks belong in services")
                        .help("set per-environment values in each service's `environment` blocks"),
                );
            }
        });
        found = Some(Preset { kind, name: pname, node: name_span(node), uses, body });
    }
    if found.is_none() && doc.nodes().iter().all(|n| n.name().value() == want) {
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("no `{want}` in this file"))
                .at(Span::new(0, 0), format!("expected `{want} {{ … }}`")),
        );
    }
    found
}

fn decode_environment(node: &kdl::KdlNode, diags: &mut Diagnostics) -> Option<Environment> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "environment name", values::check_dns1123_label),
        None => {
            diags.push(reader::missing(r.name_span(), "an environment name", "write `environment production { … }`"));
            None
        }
    };
    r.finish(diags);
    let body = body::decode_body(children(node), "environment", false, diags, &mut |n, diags| {
        if n.name().value() == "pipeline" {
            diags.push(
                Diagnostic::error(Code::UnknownNode, "`pipeline` cannot be set per environment")
                    .at(name_span(n), "inside an environment")
                    .help("write one `pipeline { … }` in `service`; its `deploy ENV` lines name the environments"),
            );
            return;
        }
        diags.push(
            Diagnostic::error(Code::UnknownNode, "environments cannot be nested")
                .at(name_span(n), "inside another environment")
                .help("declare every environment directly inside `service`"),
        );
    });
    let block: Span = node.span().into();
    Some(Environment { name: name?, node: name_span(node), block, body })
}

/// GitHub Actions evaluates `${{ … }}` wherever it appears in a workflow,
/// even inside an `env:` value, so no spec text may hold one: a value that
/// reaches the workflow would run as an expression with the job's secrets.
/// Checked once over the whole document (names, arguments, properties).
fn forbid_expressions(nodes: &[kdl::KdlNode], diags: &mut Diagnostics) {
    const OPEN: &str = "${{";
    let report = |diags: &mut Diagnostics, span: Span| {
        diags.push(
            Diagnostic::error(Code::WorkflowExpression, "a spec value cannot hold `${{`")
                .at(span, "GitHub Actions would evaluate this as an expression")
                .help("svcc passes values to the workflow as data; write the text without `${{`, or set it in the workflow's own secrets and variables"),
        );
    };
    for node in nodes {
        if node.name().value().contains(OPEN) {
            report(diags, name_span(node));
        }
        for e in node.entries() {
            let in_value = matches!(e.value(), kdl::KdlValue::String(s) if s.contains(OPEN));
            if in_value || e.name().is_some_and(|n| n.value().contains(OPEN)) {
                report(diags, reader::value_span(e));
            }
        }
        forbid_expressions(children(node), diags);
    }
}
