//! Stage 2: `KdlDocument` → [`model::Spec`](crate::model::Spec).
//!
//! A hand-written decoder: every node, argument and property is checked
//! against the language (`docs/language.md`), every value keeps its span, and
//! every problem becomes a diagnostic. Decoding never stops early: an invalid
//! value decodes to `None` and the rest of the file is still read.
//!
//! Each block of the language is one module holding the table of its nodes
//! ([`node::Node`]) and their decode functions; `body.rs` lists the blocks.

mod body;
mod ci;
mod command;
mod compose;
mod config;
mod containers;
mod env;
mod environment;
mod gitops;
mod route;
mod image;
mod jobs;
mod lifecycle;
mod metadata;
mod monitoring;
mod network;
pub mod node;
mod patch;
mod ports;
mod probes;
pub(crate) mod reader;
mod resources;
mod rollout;
mod scaling;
mod scheduling;
mod security;
mod volumes;

use kdl::KdlDocument;

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Preset, PresetKind, Spec};
use crate::source::Span;
use crate::values;
use node::{Info, Place};
use reader::{NodeReader, children, name_span};

/// The top-level node of a spec file. Its children, like a preset's and an
/// org defaults file's, are the body nodes; `Info::place` says which of
/// them each block may hold.
pub const SERVICE: Info = Info {
    name: "service",
    summary: "The service a spec file describes: every setting lives in its block",
    doc: "language.md#one-service-per-file",
    args: "NAME",
    props: &["folder"],
    item_props: &[],
    repeat: false,
    place: Place::SERVICE,
    children: Some(&body::Nodes),
};

/// The top-level node of a preset file (`use "./presets/x.kdl"`).
pub const PRESET: Info = Info {
    name: "preset",
    summary: "Settings that services lay under their own with `use`",
    doc: "presets.md#presets-use",
    place: Place::PRESET,
    props: &[],
    ..SERVICE
};

/// The top-level node of an org defaults file (`_defaults.kdl`).
pub const DEFAULTS: Info = Info {
    name: "defaults",
    summary: "Settings laid under every service below this file's folder",
    doc: "presets.md#org-defaults-_defaultskdl",
    args: "",
    place: Place::PRESET,
    props: &[],
    ..SERVICE
};

/// The top-level nodes, one per kind of file.
pub const FILES: &[Info] = &[SERVICE, PRESET, DEFAULTS];

/// Decode a parsed document. Returns `None` if there is no usable `service`.
pub fn decode(doc: &KdlDocument, diags: &mut Diagnostics) -> Option<Spec> {
    forbid_expressions(doc.nodes(), diags);
    crate::secrets::scan(doc, diags);
    let mut spec: Option<Spec> = None;
    let mut first_service: Option<Span> = None;
    for node in doc.nodes() {
        let name = node.name().value();
        if name == PRESET.name || name == DEFAULTS.name {
            diags.push(
                Diagnostic::error(Code::MissingService, format!("this file holds a `{name}`, not a `service`"))
                    .at(name_span(node), "not a service")
                    .help(if name == PRESET.name {
                        "use it from a service: `use \"./path/to/this.kdl\"`; `svcc build` skips files under `presets/` folders and files named `_*.kdl`"
                    } else {
                        "name the file `_defaults.kdl`: it then applies to every service below its folder"
                    }),
            );
            first_service.get_or_insert(name_span(node));
            continue;
        }
        if name != SERVICE.name {
            let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown top-level node `{name}`"))
                .at(name_span(node), "expected `service`");
            d = match did_you_mean(name, &[SERVICE.name]) {
                Some(s) => d.did_you_mean(s, name_span(node), s.to_string()),
                None => {
                    if body::find(name).is_some() {
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
    let folder = r.prop("folder").and_then(|e| reader::name(diags, e, "output folder", values::check_dns1123_label));
    r.finish(diags);
    let c = body::decode_body(children(node), SERVICE.name, Place::SERVICE, diags);
    if node.children().is_none() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "the service has no settings")
                .at(name_span(node), "needs a `{ … }` block")
                .help("add at least an image: `service my-app { image \"ghcr.io/acme/my-app\" }`"),
        );
    }
    Some(Spec {
        name: name?,
        node: name_span(node),
        uses: c.uses,
        body: c.body,
        environments: c.environments,
        ci: c.ci,
        folder,
    })
}

/// Decode a preset file (`preset NAME { … }`) or an org defaults file
/// (`defaults { … }`): one node of the expected kind, holding a body.
pub fn decode_preset(doc: &KdlDocument, kind: PresetKind, diags: &mut Diagnostics) -> Option<Preset> {
    crate::secrets::scan(doc, diags);
    let want = match kind {
        PresetKind::Preset => PRESET.name,
        PresetKind::Defaults => DEFAULTS.name,
    };
    forbid_expressions(doc.nodes(), diags);
    let mut found: Option<Preset> = None;
    for node in doc.nodes() {
        let name = node.name().value();
        if name != want {
            let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown top-level node `{name}`"))
                .at(name_span(node), format!("expected `{want}`"));
            d = match did_you_mean(name, &[want]) {
                Some(s) => d.did_you_mean(s, name_span(node), s.to_string()),
                None if name == SERVICE.name => d.help(format!(
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
        let c = body::decode_body(children(node), want, Place::PRESET, diags);
        found = Some(Preset { kind, name: pname, node: name_span(node), uses: c.uses, body: c.body });
    }
    if found.is_none() && doc.nodes().iter().all(|n| n.name().value() == want) {
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("no `{want}` in this file"))
                .at(Span::new(0, 0), format!("expected `{want} {{ … }}`")),
        );
    }
    found
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
            if let kdl::KdlValue::String(s) = e.value() {
                control_character(s, reader::value_span(e), diags);
            }
        }
        forbid_expressions(children(node), diags);
    }
}

/// A control character other than tab, line feed or carriage return (C0,
/// DEL, C1) in a spec string: YAML can only hold it escaped, and `kubectl
/// kustomize` (so `kubectl apply -k`) refuses the file even then, so the
/// build would pass and the deploy fail. Every string reaches the output
/// only from a spec, a preset or a defaults file, so this one check covers
/// values and patches alike.
fn control_character(s: &str, span: Span, diags: &mut Diagnostics) {
    if !s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return;
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        diags.push(
            Diagnostic::error(
                Code::ControlCharacter,
                format!("a value holds the control character {}", values::describe_char(c)),
            )
            .at(span, "here")
            .help("remove it: Kubernetes manifests hold printable text"),
        );
    }
}
