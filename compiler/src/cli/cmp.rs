//! `svcc cmp`: svcc as an Argo CD config management plugin, for teams that
//! render in the cluster rather than commit the output (docs/gitops.md).
//!
//! - `svcc cmp plugin` prints the plugin's `plugin.yaml` (a
//!   ConfigManagementPlugin for a repo-server sidecar), shipped as
//!   `stdlib/argocd/plugin.yaml`;
//! - `svcc cmp generate` is its `generate` command. Argo CD's repo server
//!   runs it in the Application's source path with the build environment
//!   set (`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`,
//!   `ARGOCD_APP_SOURCE_PATH`, and the Application's `plugin.env` as
//!   `ARGOCD_ENV_*`); it compiles the specs there for one environment and
//!   prints its objects as one YAML stream. It writes nothing; on any
//!   problem it prints nothing on stdout (an empty stream would let Argo
//!   CD prune the application) and exits non-zero with the diagnostics on
//!   stderr.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use svcc::diagnostic::render::{self, FileDiagnostics, Format, HumanStyle};
use svcc::diagnostic::{Code, Diagnostic};
use svcc::{Options, Unit, emit};

use super::inputs::{self, SpecPath, collect_inputs, read_units};
use super::tags::{self, Tags};
use super::{EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE_OR_IO, err, out};

/// The plugin definition, as shipped.
pub const PLUGIN: &str = include_str!("../../../stdlib/argocd/plugin.yaml");

/// The Application's settings for the plugin (`spec.source.plugin.env`),
/// which Argo CD prefixes with `ARGOCD_ENV_`.
pub const ENVIRONMENT_VAR: &str = "ARGOCD_ENV_SVCC_ENVIRONMENT";
pub const IMAGE_TAG_VAR: &str = "ARGOCD_ENV_SVCC_IMAGE_TAG";
pub const IMAGE_TAGS_VAR: &str = "ARGOCD_ENV_SVCC_IMAGE_TAGS";

/// `svcc cmp plugin`.
pub(super) fn plugin() -> ExitCode {
    ExitCode::from(if out(PLUGIN) { EXIT_OK } else { EXIT_USAGE_OR_IO })
}

/// What the repo server tells the plugin, from the environment.
struct Build {
    app: Option<String>,
    /// The Application's destination namespace (`ARGOCD_APP_NAMESPACE`).
    namespace: Option<String>,
    /// The Application's path in the repository (`ARGOCD_APP_SOURCE_PATH`).
    source_path: Option<String>,
    environment: Option<String>,
    image_tag: Vec<String>,
    image_tags: Option<String>,
}

impl Build {
    fn from_env() -> Build {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Build {
            app: var("ARGOCD_APP_NAME"),
            namespace: var("ARGOCD_APP_NAMESPACE"),
            source_path: var("ARGOCD_APP_SOURCE_PATH"),
            environment: var(ENVIRONMENT_VAR).map(|v| v.trim().to_string()),
            // `checkout=3.2.1 ledger=0.15.0`, or one tag for every service.
            image_tag: var(IMAGE_TAG_VAR)
                .map(|v| v.split([',', ' ', '\n', '\t']).filter(|t| !t.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
            image_tags: var(IMAGE_TAGS_VAR).map(|v| v.trim().to_string()),
        }
    }
}

/// A value from the environment, as messages show it: control characters
/// escaped, so a variable cannot rewrite the terminal or the log it lands in.
fn shown(v: &str) -> String {
    v.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

fn problem(message: String, help: &str) -> FileDiagnostics {
    FileDiagnostics::without_source(
        None,
        vec![Diagnostic::error(Code::InvalidArgument, message).help(help.to_string())],
    )
}

/// The repository root: the current folder without the Application's path
/// (`ARGOCD_APP_SOURCE_PATH`), since the repo server may send the plugin
/// the repository without its `.git`; `None` when the path is not given
/// (then the usual rules find it).
fn root(source_path: Option<&str>) -> Result<Option<PathBuf>, Box<FileDiagnostics>> {
    let Some(rel) = source_path else { return Ok(None) };
    let cwd = std::env::current_dir().map_err(|e| {
        Box::new(problem(format!("cannot read the current folder: {e}"), "run in the Application's source path"))
    })?;
    let rel = Path::new(rel.trim_matches('/'));
    let parts: Vec<Component> = rel.components().filter(|c| !matches!(c, Component::CurDir)).collect();
    if parts.iter().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Box::new(problem(
            format!("`ARGOCD_APP_SOURCE_PATH` is not a path in the repository: `{}`", shown(&rel.to_string_lossy())),
            "Argo CD sets it to the Application's `spec.source.path`",
        )));
    }
    let mut root = cwd.clone();
    for part in parts.iter().rev() {
        if root.file_name() != Some(part.as_os_str()) || !root.pop() {
            return Err(Box::new(problem(
                format!(
                    "the current folder `{}` is not `{}` of a repository",
                    shown(&cwd.to_string_lossy()),
                    shown(&rel.to_string_lossy())
                ),
                "Argo CD runs the plugin in the Application's source path",
            )));
        }
    }
    Ok(Some(root))
}

/// A file named by a path from the repository root, which must stay in it.
fn in_root(root: Option<&Path>, rel: &str) -> Result<PathBuf, Box<FileDiagnostics>> {
    let p = Path::new(rel);
    let plain = p.components().all(|c| matches!(c, Component::Normal(s) if !s.to_string_lossy().starts_with('.')));
    if !plain || p.as_os_str().is_empty() {
        return Err(Box::new(problem(
            format!("`{IMAGE_TAGS_VAR}` is not a path from the repository root: `{}`", shown(rel)),
            "name the tags file from the repository's root, such as `image-tags.txt`, without `..` or hidden folders",
        )));
    }
    Ok(match root {
        Some(r) => r.join(p),
        None => p.to_path_buf(),
    })
}

/// Read what the Application's path holds: its specs (each with the
/// repository root as the folder it was found through) and the tags.
fn read(b: &Build, problems: &mut Vec<FileDiagnostics>) -> Option<(svcc::repo::Repo, Vec<Unit>, Tags)> {
    let root = root(b.source_path.as_deref()).map_err(|p| problems.push(*p)).ok()?;
    let mut tags = tags::from_flags(&b.image_tag, problems);
    let mut specs = collect_inputs(&[PathBuf::from(".")], problems);
    if let Some(r) = &root {
        specs = specs.into_iter().map(|s| SpecPath { path: s.path, argument: r.clone() }).collect();
    }
    let mut repo = inputs::repo(problems)?;
    if let Some(file) = &b.image_tags {
        let path = in_root(root.as_deref(), file).map_err(|p| problems.push(*p)).ok()?;
        tags::read_file(&mut repo, &path, &mut tags, problems);
    }
    let units = read_units(&mut repo, &specs, problems);
    if specs.is_empty() && problems.is_empty() {
        problems.push(problem(
            "no `*.kdl` spec in the Application's path".to_string(),
            "point the Application's `spec.source.path` at the folder holding the service's spec",
        ));
    }
    Some((repo, units, tags))
}

/// `svcc cmp generate`.
pub(super) fn generate() -> ExitCode {
    let b = Build::from_env();
    let style = HumanStyle { color: false, width: 100 };
    let mut problems = Vec::new();
    let read = read(&b, &mut problems);
    let code = match read {
        Some((repo, units, tags)) if problems.is_empty() => match render(&b, &repo, &units, &tags) {
            Ok(stream) => {
                return ExitCode::from(if out(&stream) { EXIT_OK } else { EXIT_USAGE_OR_IO });
            }
            Err((code, found)) => {
                problems.extend(found);
                code
            }
        },
        _ => EXIT_USAGE_OR_IO,
    };
    if let Some(app) = &b.app {
        err(&format!("svcc: cannot generate the manifests of Argo CD application `{}`\n", shown(app)));
    }
    err(&render::render(Format::Human, &problems, style));
    ExitCode::from(code)
}

/// Compile the units for the Application's environment and check that it
/// is the namespace the Application deploys to.
fn render(
    b: &Build,
    repo: &svcc::repo::Repo,
    units: &[Unit],
    tags: &Tags,
) -> Result<String, (u8, Vec<FileDiagnostics>)> {
    let opts = Options {
        image_tag: tags.every.clone(),
        service_tags: tags.by_service.clone(),
        require_tag: true,
        environments: b.environment.iter().cloned().collect(),
        ..Options::default()
    };
    let runs: Vec<svcc::Run> = units.iter().map(|u| svcc::run(&u.input, &u.defaults, repo, &opts)).collect();
    let mut problems: Vec<FileDiagnostics> = runs
        .iter()
        .filter(|r| !r.diagnostics.is_empty())
        .map(|r| FileDiagnostics {
            file: Some(r.file.clone()),
            name: None,
            diagnostics: r.diagnostics.clone(),
            imports: r.imports.clone(),
        })
        .collect();
    if runs.iter().any(svcc::Run::has_errors) {
        return Err((EXIT_SPEC_ERRORS, problems));
    }
    let mut artifacts = Vec::new();
    for r in &runs {
        let name = r.spec.as_ref().map_or("", |s| s.name.value.as_str());
        if b.environment.is_none() && r.plans.len() > 1 {
            let envs: Vec<&str> = r.plans.iter().map(|p| p.environment.as_str()).collect();
            problems.push(problem(
                format!("`{name}` has {} environments ({}): which one does this Application deploy?", envs.len(), envs.join(", ")),
                "set `SVCC_ENVIRONMENT` in the Application's `spec.source.plugin.env`: `- { name: SVCC_ENVIRONMENT, value: production }`",
            ));
            continue;
        }
        for p in &r.plans {
            if let (Some(want), Some(ns)) = (&b.namespace, &p.namespace)
                && want != ns
            {
                problems.push(problem(
                    format!("`{name}` deploys environment `{}` to namespace `{ns}`, but the Application's destination is `{}`", p.environment, shown(want)),
                    "make the Application's `spec.destination.namespace` the environment's namespace, or change `namespace` in the spec",
                ));
            }
        }
        artifacts.extend(r.artifacts.iter().cloned());
    }
    if problems.iter().any(|p| p.diagnostics.iter().any(Diagnostic::is_error)) {
        return Err((EXIT_USAGE_OR_IO, problems));
    }
    if !problems.is_empty() {
        // Warnings: on stderr, which Argo CD shows; the objects are fine.
        err(&render::render(Format::Human, &problems, HumanStyle { color: false, width: 100 }));
    }
    Ok(emit::stream(&artifacts))
}
