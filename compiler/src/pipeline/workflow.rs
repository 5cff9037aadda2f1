//! The GitHub Actions workflow as typed structs, serialised by `emit::yaml_with_blocks`
//! (never text templating: serde-saphyr quotes the `on` key and every YAML
//! 1.1 look-alike).

use indexmap::IndexMap;
use serde::Serialize;

use super::runtime::{self, Runtime};
use super::{Context, EnvTarget};
use crate::plan::PlanStage;

pub type Map = IndexMap<String, String>;

#[derive(Clone, Debug, Serialize)]
pub struct Workflow {
    pub name: String,
    pub on: Triggers,
    pub permissions: Map,
    pub concurrency: Concurrency,
    pub jobs: IndexMap<String, Job>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Triggers {
    pub push: Push,
    pub pull_request: Branches,
}

#[derive(Clone, Debug, Serialize)]
pub struct Push {
    pub branches: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Branches {
    pub branches: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Concurrency {
    pub group: String,
    /// `false`, or an expression.
    #[serde(rename = "cancel-in-progress")]
    pub cancel_in_progress: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub name: String,
    #[serde(rename = "runs-on")]
    pub runs_on: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub permissions: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    #[serde(rename = "timeout-minutes")]
    pub timeout_minutes: u32,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: Map,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, ServiceContainer>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceContainer {
    pub image: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
    pub ports: Vec<String>,
    pub options: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Step {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub with: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
}

impl Step {
    pub fn uses(name: &str, action: &str) -> Step {
        Step { name: Some(name.into()), uses: Some(action.into()), ..Step::default() }
    }
    pub fn run(name: &str, script: impl Into<String>) -> Step {
        Step { name: Some(name.into()), run: Some(script.into()), ..Step::default() }
    }
    pub fn with(mut self, k: &str, v: impl Into<String>) -> Step {
        self.with.insert(k.into(), v.into());
        self
    }
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Step {
        self.env.insert(k.into(), v.into());
        self
    }
    pub fn id(mut self, id: &str) -> Step {
        self.id = Some(id.into());
        self
    }
    pub fn when(mut self, cond: &str) -> Step {
        self.if_ = Some(cond.into());
        self
    }
}

/// Actions, pinned to major versions (never a branch): the first major of
/// each that runs on Node.js 24, since GitHub removes the Node.js 20 action
/// runtime (actionlint rejects those majors); the Trivy action has no major
/// line, so it is pinned to a release.
pub mod actions {
    pub const CHECKOUT: &str = "actions/checkout@v5";
    pub const SETUP_NODE: &str = "actions/setup-node@v5";
    pub const QEMU: &str = "docker/setup-qemu-action@v4";
    pub const BUILDX: &str = "docker/setup-buildx-action@v4";
    pub const LOGIN: &str = "docker/login-action@v4";
    pub const METADATA: &str = "docker/metadata-action@v6";
    pub const BUILD_PUSH: &str = "docker/build-push-action@v7";
    pub const TRIVY: &str = "aquasecurity/trivy-action@0.28.0";
    pub const UPLOAD_SARIF: &str = "github/codeql-action/upload-sarif@v4";
    pub const UPLOAD_ARTIFACT: &str = "actions/upload-artifact@v6";
    pub const CODECOV: &str = "codecov/codecov-action@v5";
    pub const CACHE: &str = "actions/cache@v5";
}

/// The Argo Rollouts kubectl plugin the deploy jobs install for a Rollout.
pub const ARGO_ROLLOUTS_VERSION: &str = "v1.8.3";

const ON_PUSH: &str = "github.event_name == 'push'";

fn perms(pairs: &[(&str, &str)]) -> Map {
    pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

fn job(name: &str, timeout: u32, steps: Vec<Step>) -> Job {
    Job {
        name: name.into(),
        runs_on: "ubuntu-latest".into(),
        needs: Vec::new(),
        if_: None,
        permissions: Map::new(),
        environment: None,
        concurrency: None,
        timeout_minutes: timeout,
        outputs: Map::new(),
        services: IndexMap::new(),
        steps,
    }
}

/// Restore svcc from the Actions cache, or install it: a cache hit takes
/// seconds where `cargo install` takes minutes on the deploy path. The key
/// changes with the install command (FNV-1a, stable across runs).
fn install_svcc(command: &str) -> Vec<Step> {
    let hash =
        command.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    vec![
        Step::uses("Restore svcc", actions::CACHE)
            .id("svcc")
            .with("path", "~/.cargo/bin/svcc")
            .with("key", format!("svcc-${{{{ runner.os }}}}-{hash:016x}")),
        Step::run("Install svcc", command).when("steps.svcc.outputs.cache-hit != 'true'"),
    ]
}

/// The secret holding the base64 kubeconfig of an environment.
pub fn kubeconfig_secret(env: &str) -> String {
    format!("KUBECONFIG_{}", env.to_ascii_uppercase().replace('-', "_"))
}

pub fn workflow(cx: &Context<'_>) -> Workflow {
    let p = cx.pipeline;
    let rt: &Runtime = runtime::preset(p.runtime);
    let spec = &cx.spec_path;
    let mut jobs: IndexMap<String, Job> = IndexMap::new();
    // Jobs every first deploy waits for.
    let mut gates: Vec<String> = Vec::new();

    let gate_steps: Vec<Step> = [(p.lint, rt.lint), (p.type_check, rt.type_check), (p.audit, rt.audit)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, (name, cmd))| Step::run(name, cmd))
        .collect();
    if !gate_steps.is_empty() {
        let mut steps = rt.setup(&p.version);
        steps.extend(gate_steps);
        jobs.insert("quality".into(), job("Lint, type-check and audit", 10, steps));
        gates.push("quality".into());
    }
    if p.unit_tests {
        let mut steps = rt.setup(&p.version);
        steps.push(Step::run("Run unit tests", if p.coverage { rt.unit_coverage } else { rt.unit }));
        if p.coverage {
            steps.push(
                Step::uses("Upload coverage", actions::CODECOV)
                    .with("files", rt.coverage_file)
                    .with("token", "${{ secrets.CODECOV_TOKEN }}"),
            );
        }
        jobs.insert("unit-tests".into(), job("Unit tests", 15, steps));
        gates.push("unit-tests".into());
    }
    if !p.integration.is_empty() {
        let mut steps = rt.setup(&p.version);
        let mut run = Step::run("Run integration tests", rt.integration);
        let mut services = IndexMap::new();
        for (name, version) in &p.integration {
            let c = runtime::container(name, version);
            for (k, v) in &c.client_env {
                run = run.env(k, *v);
            }
            services.insert(name.clone(), c.service);
        }
        steps.push(run);
        let mut j = job("Integration tests", 15, steps);
        j.services = services;
        jobs.insert("integration-tests".into(), j);
        gates.push("integration-tests".into());
    }
    {
        let mut steps = vec![Step::uses("Check out", actions::CHECKOUT)];
        steps.extend(install_svcc(&p.install_svcc));
        steps.push(Step::run("Check the service spec", format!("svcc check {spec}")));
        jobs.insert("svcc-check".into(), job("Check the service spec", 15, steps));
        gates.push("svcc-check".into());
    }

    // Image: built in parallel with the gates, pushed on pushes only.
    let image = &cx.image;
    let mut build_steps = vec![Step::uses("Check out", actions::CHECKOUT)];
    if p.platforms.iter().any(|pl| pl != "linux/amd64") {
        build_steps.push(Step::uses("Set up QEMU", actions::QEMU));
    }
    build_steps.push(Step::uses("Set up Docker Buildx", actions::BUILDX));
    let login = Step::uses("Log in to the registry", actions::LOGIN).with("registry", &image.registry);
    build_steps.push(if image.registry == "ghcr.io" {
        login.with("username", "${{ github.actor }}").with("password", "${{ secrets.GITHUB_TOKEN }}")
    } else {
        login.with("username", "${{ secrets.REGISTRY_USERNAME }}").with("password", "${{ secrets.REGISTRY_PASSWORD }}")
    });
    let mut tags = String::from("type=sha,format=long,prefix=\ntype=ref,event=branch\n");
    if p.tags.is_some() {
        tags.push_str("type=semver,pattern={{version}}\n");
    }
    build_steps.push(
        Step::uses("Image tags and labels", actions::METADATA)
            .id("meta")
            .with("images", format!("{}/{}", image.registry, image.repository))
            .with("tags", tags),
    );
    build_steps.push(
        Step::uses("Build and push", actions::BUILD_PUSH)
            .id("build")
            .with("context", ".")
            .with("file", "./Dockerfile")
            .with("platforms", p.platforms.join(","))
            .with("push", "true")
            .with("tags", "${{ steps.meta.outputs.tags }}")
            .with("labels", "${{ steps.meta.outputs.labels }}")
            .with("cache-from", "type=gha")
            .with("cache-to", "type=gha,mode=max"),
    );
    let mut build = job("Build and push the image", 30, build_steps);
    build.if_ = Some(ON_PUSH.into());
    build.permissions = perms(&[("contents", "read"), ("packages", "write")]);
    build.outputs.insert(
        "image".into(),
        format!("{}/{}@${{{{ steps.build.outputs.digest }}}}", image.registry, image.repository),
    );
    jobs.insert("build-image".into(), build);
    let mut image_ready = "build-image".to_string();

    if p.scan {
        let mut trivy = Step::uses("Scan the image", actions::TRIVY)
            .with("image-ref", "${{ needs.build-image.outputs.image }}")
            .with("format", "sarif")
            .with("output", "trivy-results.sarif")
            .with("severity", "CRITICAL,HIGH")
            .with("ignore-unfixed", "true");
        let mut permissions = vec![("contents", "read"), ("security-events", "write"), ("actions", "read")];
        if image.registry == "ghcr.io" {
            trivy =
                trivy.env("TRIVY_USERNAME", "${{ github.actor }}").env("TRIVY_PASSWORD", "${{ secrets.GITHUB_TOKEN }}");
            permissions.push(("packages", "read"));
        } else {
            trivy = trivy
                .env("TRIVY_USERNAME", "${{ secrets.REGISTRY_USERNAME }}")
                .env("TRIVY_PASSWORD", "${{ secrets.REGISTRY_PASSWORD }}");
        }
        let steps = vec![
            trivy,
            Step::uses("Upload the scan to code scanning", actions::UPLOAD_SARIF)
                .when("always()")
                .with("sarif_file", "trivy-results.sarif"),
        ];
        let mut scan = job("Scan the image", 10, steps);
        scan.needs = vec!["build-image".into()];
        scan.if_ = Some(ON_PUSH.into());
        scan.permissions = perms(&permissions);
        jobs.insert("scan".into(), scan);
        image_ready = "scan".into();
    }

    // The promotion path.
    let mut before: Vec<String> = gates;
    before.push(image_ready);
    let mut current: Option<String> = None;
    let mut since_deploy: Vec<String> = Vec::new();
    for (i, stage) in p.stages.iter().enumerate() {
        match stage {
            PlanStage::Deploy(env) => {
                let Some(target) = cx.targets.iter().find(|t| t.environment == *env) else { continue };
                let needs = match &current {
                    None => before.clone(),
                    Some(prev) if since_deploy.is_empty() => vec![prev.clone()],
                    Some(_) => since_deploy.clone(),
                };
                let url =
                    p.stages[i + 1..].iter().take_while(|s| !matches!(s, PlanStage::Deploy(_))).find_map(|s| match s {
                        PlanStage::E2e(u) => Some(u.clone()),
                        _ => None,
                    });
                let id = format!("deploy-{env}");
                jobs.insert(id.clone(), deploy_job(cx, target, needs, url));
                current = Some(id);
                since_deploy.clear();
            }
            PlanStage::Smoke(url) => {
                if let Some(j) = current.as_ref().and_then(|c| jobs.get_mut(c)) {
                    j.steps.push(Step::run(
                        "Smoke test",
                        format!(
                            "curl --fail --silent --show-error --retry 5 --retry-delay 10 --retry-all-errors '{url}'"
                        ),
                    ));
                }
            }
            PlanStage::E2e(url) => {
                let Some(prev) = current.clone() else { continue };
                let env = prev.trim_start_matches("deploy-").to_string();
                let mut steps = rt.setup(&p.version);
                steps.push(Step::run("Run end-to-end tests", rt.e2e).env("E2E_BASE_URL", url.clone()));
                let mut j = job(&format!("End-to-end tests on {env}"), 20, steps);
                j.needs = vec![prev];
                j.if_ = Some(ON_PUSH.into());
                let mut id = format!("e2e-{env}");
                let mut n = 2;
                while jobs.contains_key(&id) {
                    id = format!("e2e-{env}-{n}");
                    n += 1;
                }
                jobs.insert(id.clone(), j);
                since_deploy.push(id);
            }
        }
    }

    let mut branches = vec![p.branch.clone()];
    branches.dedup();
    Workflow {
        name: cx.service.to_string(),
        on: Triggers {
            push: Push { branches: branches.clone(), tags: p.tags.iter().cloned().collect() },
            pull_request: Branches { branches },
        },
        permissions: perms(&[("contents", "read")]),
        concurrency: Concurrency {
            group: "${{ github.workflow }}-${{ github.ref }}".into(),
            cancel_in_progress: "${{ github.event_name == 'pull_request' }}".into(),
        },
        jobs,
    }
}

fn deploy_job(cx: &Context<'_>, t: &EnvTarget, needs: Vec<String>, url: Option<String>) -> Job {
    let p = cx.pipeline;
    let env = &t.environment;
    let folder = format!("deploy/{}/{env}", cx.service);
    let ns = t.namespace.as_ref().map_or(String::new(), |n| format!(" --namespace {n}"));
    let mut steps = vec![Step::uses("Check out", actions::CHECKOUT)];
    steps.extend(install_svcc(&p.install_svcc));
    if t.rollout {
        steps.push(Step::run(
            "Install the Argo Rollouts kubectl plugin",
            format!(
                "curl --fail --silent --show-error --location --output kubectl-argo-rollouts \\\n  https://github.com/argoproj/argo-rollouts/releases/download/{ARGO_ROLLOUTS_VERSION}/kubectl-argo-rollouts-linux-amd64\nchmod +x kubectl-argo-rollouts\nsudo mv kubectl-argo-rollouts /usr/local/bin/\n"
            ),
        ));
    }
    steps.push(
        Step::run(
            "Configure kubectl",
            "echo \"$KUBECONFIG_DATA\" | base64 -d > \"$RUNNER_TEMP/kubeconfig\"\nchmod 600 \"$RUNNER_TEMP/kubeconfig\"\necho \"KUBECONFIG=$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"\n",
        )
        .env("KUBECONFIG_DATA", format!("${{{{ secrets.{} }}}}", kubeconfig_secret(env))),
    );
    steps.push(Step::run(
        "Render the manifests",
        format!("svcc build {} --env {env} --image-tag ${{{{ github.sha }}}} -o deploy/", cx.spec_path),
    ));
    steps.push(
        Step::uses("Keep the rendered manifests", actions::UPLOAD_ARTIFACT)
            .with("name", format!("manifests-{env}"))
            .with("path", folder.clone()),
    );
    steps.push(Step::run("Apply", format!("kubectl apply --kustomize {folder}")));
    let wait = if t.rollout {
        format!("kubectl argo rollouts status {}{ns} --timeout {}s", cx.service, t.timeout_seconds)
    } else {
        format!("kubectl rollout status deployment/{}{ns} --timeout={}s", cx.service, t.timeout_seconds)
    };
    steps.push(Step::run("Wait for the rollout", wait));
    let mut j = job(&format!("Deploy to {env}"), t.timeout_seconds.div_ceil(60) as u32 + 10, steps);
    j.needs = needs;
    j.if_ = Some(ON_PUSH.into());
    j.environment = Some(Environment { name: env.clone(), url });
    j.concurrency =
        Some(Concurrency { group: format!("deploy-{}-{env}", cx.service), cancel_in_progress: false.into() });
    j
}
