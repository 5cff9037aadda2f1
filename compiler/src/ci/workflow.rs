//! The GitHub Actions workflow as typed structs, serialised by `emit::yaml_with_blocks`
//! (never text templating: serde-saphyr quotes the `on` key and every YAML
//! 1.1 look-alike).

use indexmap::IndexMap;
use serde::Serialize;

use super::runtime::{self, Runtime};
use super::{Context, EnvTarget};
use crate::model::SvccInstall;
use crate::plan::{PlanCi, PlanStage};

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
    /// Values the job's scripts read as `"$NAME"`: spec values reach shell
    /// only this way, never pasted into a `run:` line.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
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
    pub fn uses(name: &str, action: actions::Pin) -> Step {
        Step { name: Some(name.into()), uses: Some(action.uses()), ..Step::default() }
    }
    /// Check out the commit without leaving the job's token in `.git/config`,
    /// where any later step (or an uploaded artifact) could read it.
    pub fn checkout() -> Step {
        Step::uses("Check out", actions::CHECKOUT).with("persist-credentials", "false")
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

/// Every action the workflow uses, pinned to the full commit of one
/// release: a tag can be moved (trivy-action's were, in March 2026, to
/// commits that stole CI secrets), a commit cannot. Each pin's version is
/// written beside it as a comment (`# v6.1.0`), as Dependabot and Renovate
/// expect when they propose updates. `tests/pipeline.rs` checks that every
/// `uses:` in generated output comes from [`ALL`](actions::ALL).
pub mod actions {
    /// An action at one commit, and the release that commit is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Pin {
        pub action: &'static str,
        pub sha: &'static str,
        pub version: &'static str,
    }

    impl Pin {
        /// The `uses:` value: `owner/repo@<40 hex digits>`.
        pub fn uses(&self) -> String {
            format!("{}@{}", self.action, self.sha)
        }
    }

    const fn pin(action: &'static str, sha: &'static str, version: &'static str) -> Pin {
        Pin { action, sha, version }
    }

    pub const CHECKOUT: Pin = pin("actions/checkout", "d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0");
    pub const SETUP_NODE: Pin = pin("actions/setup-node", "53b83947a5a98c8d113130e565377fae1a50d02f", "v6.3.0");
    pub const QEMU: Pin = pin("docker/setup-qemu-action", "96fe6ef7f33517b61c61be40b68a1882f3264fb8", "v4.2.0");
    pub const BUILDX: Pin = pin("docker/setup-buildx-action", "bb05f3f5519dd87d3ba754cc423b652a5edd6d2c", "v4.2.0");
    pub const LOGIN: Pin = pin("docker/login-action", "dbcb813823bdd20940b903addbd779551569679f", "v4.6.0");
    pub const METADATA: Pin = pin("docker/metadata-action", "dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0");
    pub const BUILD_PUSH: Pin = pin("docker/build-push-action", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0");
    /// 0.35.0 is the release the maintainers named safe after the tag
    /// hijack (GHSA-69fq-xp46-6x23); never a 0.28–0.34 tag.
    pub const TRIVY: Pin = pin("aquasecurity/trivy-action", "57a97c7e7821a5776cebc9bb87c984fa69cba8f1", "0.35.0");
    pub const UPLOAD_SARIF: Pin =
        pin("github/codeql-action/upload-sarif", "8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2");
    pub const UPLOAD_ARTIFACT: Pin =
        pin("actions/upload-artifact", "043fb46d1a93c77aae656e7c1c64a875d1fc6a0a", "v7.0.1");
    pub const CODECOV: Pin = pin("codecov/codecov-action", "671740ac38dd9b0130fbe1cec585b89eea48d3de", "v5.5.2");

    pub const ALL: &[Pin] = &[
        CHECKOUT,
        SETUP_NODE,
        QEMU,
        BUILDX,
        LOGIN,
        METADATA,
        BUILD_PUSH,
        TRIVY,
        UPLOAD_SARIF,
        UPLOAD_ARTIFACT,
        CODECOV,
    ];

    /// The Trivy release the scan runs: the action would otherwise fetch
    /// whatever is newest at run time (v0.69.4 to v0.69.6 were malicious).
    pub const TRIVY_VERSION: &str = "v0.69.3";

    /// Append each pin's version as a comment to its `uses:` line of a
    /// serialised workflow (YAML has no other place for it).
    pub fn annotate(yaml: &str) -> String {
        let mut out = String::with_capacity(yaml.len() + 512);
        for line in yaml.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            let pinned = body
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
                .and_then(|u| ALL.iter().find(|p| p.uses() == u));
            match pinned {
                Some(p) => {
                    out.push_str(body);
                    out.push_str(" # ");
                    out.push_str(p.version);
                    out.push_str(&line[body.len()..]);
                }
                None => out.push_str(line),
            }
        }
        out
    }
}

/// The Argo Rollouts kubectl plugin the deploy jobs install for a Rollout,
/// and the SHA-256 of its linux-amd64 binary (from the release's
/// `argo-rollouts-checksums.txt`), checked before it is made executable.
pub const ARGO_ROLLOUTS_VERSION: &str = "v1.8.3";
pub const ARGO_ROLLOUTS_SHA256: &str = "6f60f3608ffc1e6b59c05ffc979d80ad1acd886d7fcbffb1e8e0c50291674373";

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
        env: Map::new(),
        steps,
    }
}

/// Install svcc the way the spec names (`install-svcc`), proving what
/// runs: a download is checked against its SHA-256 before it is made
/// executable; a build, or svcc's action, names one commit. Nothing is
/// cached: a cache entry is writable by other runs, and this binary runs
/// next to deploy credentials. The values reach the script as environment
/// variables, or the action as the commit of its `uses:`.
fn install_svcc(how: &SvccInstall) -> Step {
    match how {
        SvccInstall::Url { url, sha256 } => Step::run(
            "Install svcc",
            "curl --fail --silent --show-error --location --proto '=https' --output \"$RUNNER_TEMP/svcc\" \"$SVCC_URL\"\n\
             echo \"$SVCC_SHA256  $RUNNER_TEMP/svcc\" | sha256sum --check --strict -\n\
             mkdir -p \"$RUNNER_TEMP/bin\"\n\
             install -m 0755 \"$RUNNER_TEMP/svcc\" \"$RUNNER_TEMP/bin/svcc\"\n\
             echo \"$RUNNER_TEMP/bin\" >> \"$GITHUB_PATH\"\n",
        )
        .env("SVCC_URL", url)
        .env("SVCC_SHA256", sha256),
        SvccInstall::Git { url, rev } => Step::run(
            "Install svcc",
            "cargo install --locked --git \"$SVCC_GIT\" --rev \"$SVCC_REV\" --root \"$RUNNER_TEMP/svcc\" svcc\n\
             echo \"$RUNNER_TEMP/svcc/bin\" >> \"$GITHUB_PATH\"\n",
        )
        .env("SVCC_GIT", url)
        .env("SVCC_REV", rev),
        // The action builds svcc from its own checkout: the commit in
        // `uses:` is the source that runs, and GitHub fetches exactly it.
        SvccInstall::Action { repo, rev } => {
            Step { name: Some("Install svcc".into()), uses: Some(format!("{repo}@{rev}")), ..Step::default() }
        }
    }
}

/// The secret holding the base64 kubeconfig of an environment.
pub fn kubeconfig_secret(env: &str) -> String {
    format!("KUBECONFIG_{}", env.to_ascii_uppercase().replace('-', "_"))
}

pub fn workflow(cx: &Context<'_>) -> Workflow {
    let p = cx.ci;
    let rt: &Runtime = runtime::preset(p.runtime);
    let mut jobs: IndexMap<String, Job> = IndexMap::new();
    // Jobs every first deploy waits for: the gates, then the image.
    let mut before: Vec<String> = Vec::new();
    let gates = [
        ("quality", quality_job(p, rt)),
        ("unit-tests", unit_tests_job(p, rt)),
        ("integration-tests", integration_tests_job(p, rt)),
        ("svcc-check", Some(check_job(cx))),
    ];
    for (id, j) in gates {
        if let Some(j) = j {
            jobs.insert(id.into(), j);
            before.push(id.into());
        }
    }
    // Image: built in parallel with the gates, pushed on pushes only.
    jobs.insert("build-image".into(), build_job(cx));
    let image_ready = match scan_job(cx) {
        Some(scan) => {
            jobs.insert("scan".into(), scan);
            "scan"
        }
        None => "build-image",
    };
    before.push(image_ready.into());
    promotion(cx, rt, before, &mut jobs);

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

/// Lint, type-check and audit, those the pipeline turns on.
fn quality_job(p: &PlanCi, rt: &Runtime) -> Option<Job> {
    let gate_steps: Vec<Step> = [(p.lint, rt.lint), (p.type_check, rt.type_check), (p.audit, rt.audit)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, (name, cmd))| Step::run(name, cmd))
        .collect();
    if gate_steps.is_empty() {
        return None;
    }
    let mut steps = rt.setup(&p.version);
    steps.extend(gate_steps);
    Some(job("Lint, type-check and audit", 10, steps))
}

fn unit_tests_job(p: &PlanCi, rt: &Runtime) -> Option<Job> {
    if !p.unit_tests {
        return None;
    }
    let mut steps = rt.setup(&p.version);
    steps.push(Step::run("Run unit tests", if p.coverage { rt.unit_coverage } else { rt.unit }));
    if p.coverage {
        steps.push(
            Step::uses("Upload coverage", actions::CODECOV)
                .with("files", rt.coverage_file)
                .with("token", "${{ secrets.CODECOV_TOKEN }}"),
        );
    }
    Some(job("Unit tests", 15, steps))
}

/// The integration tests, with their service containers.
fn integration_tests_job(p: &PlanCi, rt: &Runtime) -> Option<Job> {
    if p.integration.is_empty() {
        return None;
    }
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
    Some(j)
}

/// `svcc check` of the spec itself.
fn check_job(cx: &Context<'_>) -> Job {
    let steps = vec![
        Step::checkout(),
        install_svcc(&cx.ci.install_svcc),
        Step::run("Check the service spec", "svcc check \"$SPEC\""),
    ];
    let mut j = job("Check the service spec", 15, steps);
    j.env.insert("SPEC".into(), cx.spec_path.clone());
    j
}

/// Build the image for every platform and push it, by digest.
fn build_job(cx: &Context<'_>) -> Job {
    let p = cx.ci;
    let image = &cx.image;
    let mut build_steps = vec![Step::checkout()];
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
    build
}

/// Scan the pushed image with Trivy into code scanning, when asked.
fn scan_job(cx: &Context<'_>) -> Option<Job> {
    if !cx.ci.scan {
        return None;
    }
    let mut trivy = Step::uses("Scan the image", actions::TRIVY)
        .with("image-ref", "${{ needs.build-image.outputs.image }}")
        .with("format", "sarif")
        .with("output", "trivy-results.sarif")
        .with("severity", "CRITICAL,HIGH")
        .with("ignore-unfixed", "true")
        .with("version", actions::TRIVY_VERSION);
    let mut permissions = vec![("contents", "read"), ("security-events", "write"), ("actions", "read")];
    if cx.image.registry == "ghcr.io" {
        trivy = trivy.env("TRIVY_USERNAME", "${{ github.actor }}").env("TRIVY_PASSWORD", "${{ secrets.GITHUB_TOKEN }}");
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
    Some(scan)
}

/// The promotion path: a deploy job per `deploy` stage (the first after
/// `before`, each later one after the previous deploy and its end-to-end
/// tests), smoke tests as steps of the deploy they follow, end-to-end
/// tests as jobs.
fn promotion(cx: &Context<'_>, rt: &Runtime, before: Vec<String>, jobs: &mut IndexMap<String, Job>) {
    let p = cx.ci;
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
                // The environment's URL: its end-to-end tests' base URL.
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
                    j.steps.push(smoke_step(url));
                }
            }
            PlanStage::E2e(url) => {
                let Some(prev) = current.clone() else { continue };
                let env = prev.trim_start_matches("deploy-").to_string();
                let mut id = format!("e2e-{env}");
                let mut n = 2;
                while jobs.contains_key(&id) {
                    id = format!("e2e-{env}-{n}");
                    n += 1;
                }
                jobs.insert(id.clone(), e2e_job(p, rt, &env, prev, url));
                since_deploy.push(id);
            }
        }
    }
}

fn smoke_step(url: &str) -> Step {
    Step::run(
        "Smoke test",
        "curl --fail --silent --show-error --retry 5 --retry-delay 10 --retry-all-errors \"$SMOKE_URL\"",
    )
    .env("SMOKE_URL", url)
}

/// End-to-end tests of `env` against `url`, after its deploy job.
fn e2e_job(p: &PlanCi, rt: &Runtime, env: &str, deploy: String, url: &str) -> Job {
    let mut steps = rt.setup(&p.version);
    steps.push(Step::run("Run end-to-end tests", rt.e2e).env("E2E_BASE_URL", url));
    let mut j = job(&format!("End-to-end tests on {env}"), 20, steps);
    j.needs = vec![deploy];
    j.if_ = Some(ON_PUSH.into());
    j
}

fn deploy_job(cx: &Context<'_>, t: &EnvTarget, needs: Vec<String>, url: Option<String>) -> Job {
    let p = cx.ci;
    let env = &t.environment;
    let folder = format!("deploy/{}/{env}", cx.folder);
    let ns = if t.namespace.is_some() { " --namespace \"$NAMESPACE\"" } else { "" };
    let mut steps = vec![Step::checkout(), install_svcc(&p.install_svcc)];
    if t.rollout {
        steps.push(Step::run(
            "Install the Argo Rollouts kubectl plugin",
            format!(
                "curl --fail --silent --show-error --location --proto '=https' --output \"$RUNNER_TEMP/kubectl-argo-rollouts\" \\\n  https://github.com/argoproj/argo-rollouts/releases/download/{ARGO_ROLLOUTS_VERSION}/kubectl-argo-rollouts-linux-amd64\necho \"{ARGO_ROLLOUTS_SHA256}  $RUNNER_TEMP/kubectl-argo-rollouts\" | sha256sum --check --strict -\nmkdir -p \"$RUNNER_TEMP/bin\"\ninstall -m 0755 \"$RUNNER_TEMP/kubectl-argo-rollouts\" \"$RUNNER_TEMP/bin/kubectl-argo-rollouts\"\necho \"$RUNNER_TEMP/bin\" >> \"$GITHUB_PATH\"\n"
            ),
        ));
    }
    // svcc renders before the kubeconfig exists: it never runs with
    // cluster credentials in reach.
    steps.push(
        Step::run(
            "Render the manifests",
            "svcc build \"$SPEC\" --env \"$ENVIRONMENT\" --image-tag \"$IMAGE_TAG\" -o deploy/",
        )
        .env("IMAGE_TAG", "${{ github.sha }}"),
    );
    steps.push(
        Step::uses("Keep the rendered manifests", actions::UPLOAD_ARTIFACT)
            .with("name", format!("manifests-{env}"))
            .with("path", folder.clone()),
    );
    steps.push(
        Step::run(
            "Configure kubectl",
            "echo \"$KUBECONFIG_DATA\" | base64 -d > \"$RUNNER_TEMP/kubeconfig\"\nchmod 600 \"$RUNNER_TEMP/kubeconfig\"\necho \"KUBECONFIG=$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"\n",
        )
        .env("KUBECONFIG_DATA", format!("${{{{ secrets.{} }}}}", kubeconfig_secret(env))),
    );
    steps.push(Step::run("Apply", "kubectl apply --kustomize \"$MANIFESTS\""));
    // The workload is named like the service unless `names workload` says otherwise.
    let named = t.workload != cx.service;
    let workload = if named { "$WORKLOAD" } else { "$SERVICE" };
    let wait = if t.rollout {
        format!("kubectl argo rollouts status \"{workload}\"{ns} --timeout {}s", t.timeout_seconds)
    } else {
        format!("kubectl rollout status \"deployment/{workload}\"{ns} --timeout={}s", t.timeout_seconds)
    };
    steps.push(Step::run("Wait for the rollout", wait));
    let mut j = job(&format!("Deploy to {env}"), t.timeout_seconds.div_ceil(60) as u32 + 10, steps);
    j.needs = needs;
    j.if_ = Some(ON_PUSH.into());
    j.environment = Some(Environment { name: env.clone(), url });
    j.concurrency =
        Some(Concurrency { group: format!("deploy-{}-{env}", cx.folder), cancel_in_progress: false.into() });
    j.env = [("SERVICE", cx.service.to_string()), ("SPEC", cx.spec_path.clone()), ("ENVIRONMENT", env.clone())]
        .into_iter()
        .chain(t.namespace.clone().map(|n| ("NAMESPACE", n)))
        .chain(named.then(|| ("WORKLOAD", t.workload.clone())))
        .chain([("MANIFESTS", folder)])
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    j
}
