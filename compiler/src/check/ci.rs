//! Resolve `pipeline { … }` into a [`PlanCi`]: runtime preset
//! defaults, and the promotion path checked against the spec's environments.

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Ci, Runtime, Spec, Stage};
use crate::plan::{PlanCi, PlanStage};
use crate::source::Span;

/// The folder beside the environment folders that holds the pipeline files.
pub const PIPELINE_FOLDER: &str = "pipeline";

/// What a runtime preset turns on when the spec does not say.
struct Preset {
    version: &'static str,
    lint: bool,
    type_check: bool,
    audit: bool,
    coverage: bool,
}

fn preset(r: Runtime) -> Preset {
    match r {
        Runtime::Node => Preset { version: "20", lint: true, type_check: true, audit: true, coverage: true },
    }
}

pub fn resolve(spec: &Spec, diags: &mut Diagnostics) -> Option<PlanCi> {
    let p: &Ci = spec.ci.as_ref()?;
    let errors_before = diags.error_count();
    let envs = super::environment_names(spec);
    let names: Vec<&str> = envs.iter().map(String::as_str).collect();
    if let Some(e) = spec.environments.iter().find(|e| e.name.value == PIPELINE_FOLDER) {
        diags.push(
            Diagnostic::error(
                Code::PipelineFolderConflict,
                format!("environment `{PIPELINE_FOLDER}` would share its folder with the pipeline files"),
            )
            .at(e.name.span, "this environment's folder")
            .also(p.node, "the pipeline writes here too")
            .help(format!("rename the environment: `{}/{PIPELINE_FOLDER}/` holds the workflow", spec.name.value)),
        );
    }
    let (runtime, version) = match &p.runtime {
        Some((r, v)) => (*r, v.value.clone()),
        None => (Runtime::Node, preset(Runtime::Node).version.to_string()),
    };
    let d = preset(runtime);
    let mut stages = Vec::new();
    let mut deployed: Vec<(&str, Span)> = Vec::new();
    for s in &p.stages {
        match s {
            Stage::Deploy(env) => {
                if !envs.contains(&env.value) {
                    let mut diag = Diagnostic::error(
                        Code::UnknownDeployEnvironment,
                        format!("`{}` has no environment `{}`", spec.name.value, env.value),
                    )
                    .at(env.span, format!("environments: {}", names.join(", ")));
                    diag = match did_you_mean(&env.value, &names) {
                        Some(m) => diag.did_you_mean(m, env.span, crate::diagnostic::kdl_string(m)),
                        None => diag.help(format!("declare `environment {} {{ … }}` in the service", env.value)),
                    };
                    diags.push(diag);
                    continue;
                }
                if let Some((_, first)) = deployed.iter().find(|(n, _)| *n == env.value) {
                    diags.push(
                        Diagnostic::error(Code::PromotionOrder, format!("`deploy {}` appears twice", env.value))
                            .at(env.span, "deployed again here")
                            .also(*first, "first deployed here")
                            .help("a promotion path visits each environment once"),
                    );
                    continue;
                }
                deployed.push((&env.value, env.span));
                stages.push(PlanStage::Deploy(env.value.clone()));
            }
            Stage::E2e { node, base_url } | Stage::Smoke { node, url: base_url } => {
                if deployed.is_empty() {
                    let what = if matches!(s, Stage::E2e { .. }) { "e2e" } else { "smoke" };
                    diags.push(
                        Diagnostic::error(Code::PromotionOrder, format!("`{what}` comes before any `deploy`"))
                            .at(*node, "nothing is deployed yet")
                            .help(format!("move `{what}` after the `deploy ENV` whose environment it checks")),
                    );
                    continue;
                }
                stages.push(match s {
                    Stage::E2e { .. } => PlanStage::E2e(base_url.value.clone()),
                    _ => PlanStage::Smoke(base_url.value.clone()),
                });
            }
        }
    }
    if p.stages.is_empty() {
        // No path written: promote through every environment in order.
        stages = envs.iter().map(|e| PlanStage::Deploy(e.clone())).collect();
    }
    // The workflow runs svcc next to deploy credentials: it must be
    // installed in a way that names exactly what runs (no default: svcc
    // owns no registry name a default could trust).
    let install_svcc = match &p.install_svcc {
        Some(i) => i.value.clone(),
        None => {
            diags.push(
                Diagnostic::error(Code::UnverifiedInstall, "the pipeline does not say how CI installs svcc")
                    .at(p.node, "the workflow runs svcc before deploying")
                    .help("add `install-svcc url=\"https://…/svcc\" sha256=\"<64 hex digits>\"` (a published binary), `install-svcc git=\"https://…\" rev=\"<40 hex digits>\"` (built from that commit) or `install-svcc action=\"OWNER/REPO\" rev=\"<40 hex digits>\"` (svcc's GitHub Action at that commit)"),
            );
            None
        }
    };
    let on = |v: &Option<crate::source::Spanned<bool>>, default: bool| v.as_ref().map_or(default, |s| s.value);
    let unit_tests = on(&p.unit_tests, true);
    let plan = PlanCi {
        runtime,
        version,
        branch: p.branch.as_ref().map_or_else(|| "main".to_string(), |b| b.value.clone()),
        tags: match &p.tags {
            Some(t) => t.value.clone(),
            None => Some("v*".to_string()),
        },
        lint: on(&p.lint, d.lint),
        type_check: on(&p.type_check, d.type_check),
        audit: on(&p.audit, d.audit),
        unit_tests,
        coverage: unit_tests && on(&p.coverage, d.coverage),
        integration: p
            .integration
            .as_ref()
            .map(|l| l.iter().map(|(n, v)| (n.value.clone(), v.value.clone())).collect())
            .unwrap_or_default(),
        platforms: p
            .platforms
            .as_ref()
            .map_or_else(|| vec!["linux/amd64".to_string(), "linux/arm64".to_string()], |s| s.value.clone()),
        scan: on(&p.scan, true),
        install_svcc: install_svcc?,
        stages,
        templates: p.templates.iter().map(|t| (t.path.value.clone(), t.path.span, t.to.value.clone())).collect(),
    };
    (diags.error_count() == errors_before).then_some(plan)
}
