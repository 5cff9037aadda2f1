//! `blue-green` and `canary`: their merge, and their resolution into a
//! [`PlanDelivery`]: derived Service and template names, analysis queries
//! built by the same [`promql`] builders (and the same
//! [`Target`]/[`Vocabulary`]) as the alerts, and every progressive-delivery
//! check (SVC0320–SVC0324).

use super::merge::or;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::plan::*;
use crate::promql::{self, Target, Vocabulary};
use crate::source::{Span, Spanned};
use crate::values::format_duration;

mod job;
mod query;
mod steps;

pub(crate) use job::tags;

/// The documented defaults of `docs/rollouts.md`.
pub mod defaults {
    /// Argo Rollouts' own scale-down delay, and the shortest svcc accepts.
    pub const MIN_ROLLBACK_WINDOW: u64 = 30;
    pub const INTERVAL: u64 = 60;
    pub const COUNT: u32 = 5;
    pub const FAILURE_LIMIT: u32 = 1;
    /// A job gate runs its Job once, and one failed run fails it.
    pub const JOB_COUNT: u32 = 1;
    pub const JOB_FAILURE_LIMIT: u32 = 0;
    pub const INCONCLUSIVE_LIMIT: u32 = 2;
    pub const SUCCESS_RATE: f64 = 0.95;
    pub const QUANTILE: f64 = 0.95;
    pub const LATENCY_MILLIS: u64 = 1000;
    /// Prometheus' scrape interval when `metrics` does not set one
    /// (kube-prometheus-stack's default).
    pub const SCRAPE_INTERVAL: u64 = 30;
    /// The `prometheus-operated` Service prometheus-operator creates.
    pub const PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc:9090";
    /// What a deploy allows the new version's pods to start and become
    /// ready: the whole wait of a rolling Deployment's deploy.
    pub const POD_READY: u64 = 300;
    /// What a deploy allows a person for each step that waits for
    /// `kubectl argo rollouts promote`.
    pub const MANUAL_PROMOTION: u64 = 1800;
}

/// How long a deploy of the update may take in the worst normal case.
struct Timing {
    /// Analyses, timed pauses and an automatic-promotion delay, in order:
    /// (span, seconds, what), as SVC0321 lists them.
    parts: Vec<(Span, u64, &'static str)>,
    /// Steps that wait for a person to promote.
    manual: u64,
}

impl Timing {
    /// The seconds a deploy job waits for the update: the automatic parts
    /// and [`defaults::POD_READY`], within `deploy-budget` when declared
    /// (SVC0321 keeps the parts themselves within it), plus
    /// [`defaults::MANUAL_PROMOTION`] for each step that waits for a person,
    /// which the budget does not count.
    fn wait(&self, budget: Option<&Spanned<Duration>>, diags: &mut Diagnostics) -> u64 {
        let automatic: u64 = self.parts.iter().map(|(_, s, _)| s).sum::<u64>() + defaults::POD_READY;
        let automatic = match budget {
            Some(b) => {
                over_budget(b, &self.parts, diags);
                automatic.min(b.value.seconds())
            }
            None => automatic,
        };
        automatic + self.manual * defaults::MANUAL_PROMOTION
    }
}

/// The AnalysisTemplate argument that carries the namespace when the spec
/// names none (no `namespace`, no environments): the queries select
/// `namespace="{{args.namespace}}"`, which the Rollout fills with its own
/// `metadata.namespace`, so an analysis never reads another namespace's
/// pods of the same name.
pub const NAMESPACE_ARG: &str = "namespace";

pub struct Context<'a> {
    pub service: &'a str,
    pub namespace: Option<&'a str>,
    pub has_ports: bool,
    /// Whether the service's own metrics are scraped (`metrics` resolved to a port).
    pub scraped: bool,
    /// Whether the spec has a `metrics` node at all.
    pub declares_metrics: bool,
    pub autoscale: Option<&'a PlanAutoscale>,
    pub origin: Span,
    /// The service's metric names, `None` when `monitoring::vocabulary` reported one.
    pub vocab: Option<&'a Vocabulary>,
    /// The generated objects' names: the Services the strategy switches.
    pub names: &'a PlanNames,
    /// Resolves a `job` gate's Job as a job of the service (`check::jobs::analysis`).
    pub job: &'a dyn Fn(&Job, &mut Diagnostics) -> PlanJob,
}

fn on(enabled: &Option<Spanned<bool>>) -> bool {
    enabled.as_ref().is_none_or(|e| e.value)
}

/// Whether the merged body runs its pods with an Argo Rollout (`blue-green`
/// or `canary`, not turned off) rather than a Deployment.
pub(super) fn declared(b: &Body) -> bool {
    b.blue_green.as_ref().is_some_and(|x| on(&x.enabled)) || b.canary.as_ref().is_some_and(|x| on(&x.enabled))
}

/// Update strategies: a layer's `blue-green` or `canary` merges field by
/// field with the lower layer's block of the same kind (analysis sets,
/// steps and traffic replace as a whole); declaring the other kind switches
/// to it; `blue-green #false` / `canary #false` turns it off.
pub(super) fn merge(
    (b_blue_green, b_canary): (&Option<BlueGreen>, &Option<Canary>),
    (blue_green, canary): (&Option<BlueGreen>, &Option<Canary>),
) -> (Option<BlueGreen>, Option<Canary>) {
    let mut out = (b_blue_green.clone(), b_canary.clone());
    if let Some(o) = blue_green {
        out.0 = match b_blue_green {
            Some(b) if on(&o.enabled) => Some(merge_blue_green(b, o)),
            _ => Some(o.clone()),
        };
        if on(&o.enabled) && canary.is_none() {
            out.1 = None;
        }
    }
    if let Some(o) = canary {
        out.1 = match b_canary {
            Some(b) if on(&o.enabled) => Some(merge_canary(b, o)),
            _ => Some(o.clone()),
        };
        if on(&o.enabled) && blue_green.is_none() {
            out.0 = None;
        }
    }
    out
}

fn merge_blue_green(base: &BlueGreen, over: &BlueGreen) -> BlueGreen {
    let BlueGreen {
        node: _,
        enabled: _,
        deploy_budget: b_deploy_budget,
        auto_promote: b_auto_promote,
        rollback_window: b_rollback_window,
        preview_replicas: b_preview_replicas,
        pre_promotion: b_pre_promotion,
        post_promotion: b_post_promotion,
    } = base;
    let BlueGreen {
        node,
        enabled,
        deploy_budget,
        auto_promote,
        rollback_window,
        preview_replicas,
        pre_promotion,
        post_promotion,
    } = over;
    BlueGreen {
        node: *node,
        enabled: enabled.clone(),
        deploy_budget: or(deploy_budget, b_deploy_budget),
        auto_promote: or(auto_promote, b_auto_promote),
        rollback_window: or(rollback_window, b_rollback_window),
        preview_replicas: or(preview_replicas, b_preview_replicas),
        pre_promotion: or(pre_promotion, b_pre_promotion),
        post_promotion: or(post_promotion, b_post_promotion),
    }
}

fn merge_canary(base: &Canary, over: &Canary) -> Canary {
    let Canary {
        node: _,
        enabled: _,
        deploy_budget: b_deploy_budget,
        auto_promote: b_auto_promote,
        max_surge: b_max_surge,
        max_unavailable: b_max_unavailable,
        traffic: b_traffic,
        background: b_background,
        steps: b_steps,
    } = base;
    let Canary { node, enabled, deploy_budget, auto_promote, max_surge, max_unavailable, traffic, background, steps } =
        over;
    Canary {
        node: *node,
        enabled: enabled.clone(),
        deploy_budget: or(deploy_budget, b_deploy_budget),
        auto_promote: or(auto_promote, b_auto_promote),
        max_surge: or(max_surge, b_max_surge),
        max_unavailable: or(max_unavailable, b_max_unavailable),
        traffic: or(traffic, b_traffic),
        background: or(background, b_background),
        steps: or(steps, b_steps),
    }
}

/// How long one gate set runs: its slowest gate, `count × interval` (a
/// job gate: its Jobs' deadlines and the intervals between them).
fn analysis_seconds(a: &Analysis) -> u64 {
    a.gates
        .iter()
        .map(|g| match &g.job {
            Some(j) => job::seconds(g, j),
            None => u64::from(gate_count(g)) * gate_interval(g),
        })
        .max()
        .unwrap_or(0)
}

fn gate_interval(g: &Gate) -> u64 {
    g.interval.as_ref().map_or(defaults::INTERVAL, |d| d.value.seconds())
}

fn gate_count(g: &Gate) -> u32 {
    let default = if g.kind == GateKind::Job { defaults::JOB_COUNT } else { defaults::COUNT };
    g.count.as_ref().map_or(default, |c| c.value)
}

fn secs(s: u64) -> String {
    format_duration(Duration { millis: s * 1000 })
}

struct Builder<'a> {
    cx: &'a Context<'a>,
    vocab: Vocabulary,
    address: String,
    scrape_interval: u64,
    analyses: Vec<PlanAnalysis>,
}

/// How one gate measures: (interval seconds, count, failure limit,
/// inconclusive limit), or `None` (reported).
type Measures = (u64, Option<u32>, u32, u32);

impl Builder<'_> {
    /// One AnalysisTemplate measuring the pods behind Service `job`;
    /// `background`: the canary's analysis that runs for the whole update.
    fn template(
        &mut self,
        name: String,
        a: &Analysis,
        job: &str,
        background: bool,
        diags: &mut Diagnostics,
    ) -> Option<String> {
        let namespace = self.cx.namespace.map_or_else(|| format!("{{{{args.{NAMESPACE_ARG}}}}}"), str::to_string);
        let target = Target {
            job: job.to_string(),
            namespace: Some(namespace),
            workload: self.cx.names.workload.name.clone(),
            container: self.cx.service.to_string(),
        };
        let name = a.template.as_ref().map_or(name, |t| t.value.clone());
        let mut metrics: Vec<PlanAnalysisMetric> = Vec::new();
        let mut failed = !self.unique(&name, a, diags);
        let mut reads_namespace = false;
        for g in &a.gates {
            if !self.cx.scraped && matches!(g.kind, GateKind::SuccessRate | GateKind::Latency) {
                diags.push(super::monitoring::needs_metrics(
                    g.name.span,
                    &format!("the `{}` analysis gate", g.name.value),
                    self.cx.declares_metrics,
                ));
                continue;
            }
            let Some((interval, count, failure_limit, inconclusive_limit)) = measures(g, background, diags) else {
                failed = true;
                continue;
            };
            // rate() needs two samples: the window covers the interval and
            // at least four scrapes.
            let window = promql::range(interval.max(4 * self.scrape_interval));
            let prometheus = |(metric, query, success_condition, failure_condition)| {
                let address = self.address.clone();
                (metric, PlanProvider::Prometheus { address, query, success_condition, failure_condition })
            };
            let measured = match (g.kind, &g.query, &g.job) {
                (GateKind::Query, Some(q), _) => {
                    query::measure(&g.name.value, q, &target, &window, &a.args, self.cx.namespace.is_none(), diags)
                        .map(prometheus)
                }
                (GateKind::Job, _, Some(j)) => job::measure(self.cx, j, &a.args, diags).map(|(p, reads)| {
                    reads_namespace |= reads;
                    (g.name.value.clone(), p)
                }),
                // Reported where it was decoded.
                (GateKind::Query | GateKind::Job, ..) => None,
                _ => Some(prometheus(self.built_in(g, &target, &window))),
            };
            let Some((metric, provider)) = measured else {
                failed = true;
                continue;
            };
            reads_namespace |= matches!(provider, PlanProvider::Prometheus { .. });
            if let Some(prev) = metrics.iter().find(|m| m.name == metric) {
                diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        format!("two measurements of one analysis are named `{metric}`"),
                    )
                    .at(g.name.span, "named again here")
                    .also(prev.span, "first named here")
                    .help("rename the query: each metric of an AnalysisTemplate needs its own name"),
                );
                failed = true;
                continue;
            }
            metrics.push(PlanAnalysisMetric {
                name: metric,
                interval: secs(interval),
                count,
                failure_limit,
                inconclusive_limit,
                provider,
                span: g.name.span,
            });
        }
        if metrics.is_empty() || failed {
            return None;
        }
        let args = a.args.iter().map(|x| PlanArg { name: x.name.value.clone(), source: x.source.clone() }).collect();
        let namespace_arg = self.cx.namespace.is_none() && reads_namespace;
        self.analyses.push(PlanAnalysis { name: name.clone(), metrics, args, namespace_arg, span: a.node });
        Some(name)
    }

    /// SVC0267: two analyses of the service would be one AnalysisTemplate.
    fn unique(&self, name: &str, a: &Analysis, diags: &mut Diagnostics) -> bool {
        let Some(prev) = self.analyses.iter().find(|p| p.name == name) else { return true };
        let at = a.template.as_ref().map_or(a.node, |t| t.span);
        diags.push(
            Diagnostic::error(Code::AnalysisTemplateName, format!("two analyses are named `{name}`"))
                .at(at, "names its AnalysisTemplate again")
                .also(prev.span, "first named here")
                .help("give each analysis its own `template=` name, or leave it out for a name derived from the service and the block")
                .note("each analysis of an update is one AnalysisTemplate; two of one name would overwrite each other"),
        );
        false
    }

    /// A built-in gate's (metric name, query, success and failure conditions).
    fn built_in(&self, g: &Gate, target: &Target, window: &str) -> (String, String, String, String) {
        let (metric, query, threshold, good, bad) = match g.kind {
            GateKind::SuccessRate => {
                let at_least = g.at_least.as_ref().map_or(defaults::SUCCESS_RATE, |v| v.value);
                (
                    "success-rate".to_string(),
                    promql::success_rate(&self.vocab, target, window),
                    promql::number(at_least),
                    ">=",
                    "<",
                )
            }
            GateKind::Latency | GateKind::Query | GateKind::Job => {
                // (a `query` or `job` gate never gets here: see `template`)
                let q = g.quantile.as_ref().map_or(defaults::QUANTILE, |v| v.value);
                let limit = g.at_most.as_ref().map_or(defaults::LATENCY_MILLIS, |d| d.value.millis);
                (
                    format!("latency-p{}", (q * 100.0).round() as i64),
                    promql::latency_quantile(&self.vocab, target, q, window),
                    promql::number(limit as f64 / 1000.0),
                    "<=",
                    ">",
                )
            }
        };
        // An empty result (no series yet) or NaN (no requests: 0/0)
        // matches neither condition: the measurement is inconclusive.
        let has_value = "len(result) > 0 && !isNaN(result[0])";
        (
            metric,
            promql::generated(query),
            format!("{has_value} && result[0] {good} {threshold}"),
            format!("{has_value} && result[0] {bad} {threshold}"),
        )
    }
}

/// A gate's interval, count, failure and inconclusive limits, checked: a
/// failure limit that can never be reached, and `count="whole-update"`
/// outside the canary's background analysis (SVC0392), are reported.
fn measures(g: &Gate, background: bool, diags: &mut Diagnostics) -> Option<Measures> {
    let interval = gate_interval(g);
    let default = if g.kind == GateKind::Job { defaults::JOB_FAILURE_LIMIT } else { defaults::FAILURE_LIMIT };
    let failure_limit = g.failure_limit.as_ref().map_or(default, |f| f.value);
    let inconclusive =
        |count: u32| g.inconclusive_limit.as_ref().map_or(defaults::INCONCLUSIVE_LIMIT.min(count), |v| v.value);
    if let Some(at) = g.whole_update {
        if !background {
            diags.push(
                Diagnostic::error(Code::WholeUpdateCount, "only the canary's background analysis can measure for the whole update")
                    .at(at, "never ends here")
                    .help("give the gate a number of measurements (`count=5`), or move it to `canary { analysis { … } }`")
                    .note("a gate without a count measures until its analysis is stopped: Argo Rollouts stops the background analysis when the update ends, but a step or promotion analysis would wait forever"),
            );
            return None;
        }
        return Some((interval, None, failure_limit, inconclusive(defaults::INCONCLUSIVE_LIMIT)));
    }
    let count = gate_count(g);
    if let Some(f) = &g.failure_limit
        && f.value >= count
    {
        diags.push(
            Diagnostic::error(
                Code::OutOfRange,
                format!("a `failure-limit` of {} with {count} measurements can never fail", f.value),
            )
            .at(f.span, "at least the number of measurements")
            .help(format!("allow fewer failures than measurements, e.g. `failure-limit={}`", count / 2)),
        );
        return None;
    }
    Some((interval, Some(count), failure_limit, inconclusive(count)))
}

pub fn resolve(cx: &Context<'_>, b: &Body, diags: &mut Diagnostics) -> Option<PlanDelivery> {
    let bg = b.blue_green.as_ref().filter(|x| on(&x.enabled));
    let canary = b.canary.as_ref().filter(|x| on(&x.enabled));
    debug_assert_eq!(bg.is_some() || canary.is_some(), declared(b));
    let node = bg.map(|x| x.node).or(canary.map(|x| x.node))?;
    if !cx.has_ports {
        diags.push(
            Diagnostic::error(Code::MissingValue, "a progressive update needs a port to route traffic to")
                .at(node, "switches Services")
                .help("declare the port the service listens on: `port http 8080`"),
        );
        return None;
    }
    if !derived_name_fits(cx, bg.is_some(), node, diags) {
        return None;
    }
    let metrics = b.metrics.as_ref();
    let mut builder = Builder {
        cx,
        vocab: cx.vocab?.clone(),
        address: metrics
            .and_then(|m| m.prometheus.as_ref())
            .map_or(defaults::PROMETHEUS.to_string(), |p| p.value.clone()),
        scrape_interval: metrics
            .and_then(|m| m.interval.as_ref())
            .map_or(defaults::SCRAPE_INTERVAL, |d| d.value.seconds()),
        analyses: Vec::new(),
    };
    if let Some(bg) = bg {
        blue_green(cx, bg, &mut builder, diags).map(|(deploy_wait, strategy, second)| PlanDelivery {
            strategy,
            second_service: Some(second),
            analyses: builder.analyses,
            deploy_wait,
            span: bg.node,
        })
    } else {
        let c = canary?;
        let (deploy_wait, strategy) = canary_strategy(cx, c, &mut builder, diags)?;
        Some(PlanDelivery {
            strategy,
            second_service: cx.names.canary_service.as_ref().map(|n| n.name.clone()),
            analyses: builder.analyses,
            deploy_wait,
            span: c.node,
        })
    }
}

fn blue_green(
    cx: &Context<'_>,
    bg: &BlueGreen,
    builder: &mut Builder<'_>,
    diags: &mut Diagnostics,
) -> Option<(u64, PlanStrategy, String)> {
    let active = cx.names.service.name.clone();
    let preview = cx.names.preview_service.name.clone();
    let errors = diags.error_count();

    let (auto_promote, auto_promote_seconds) = promotion(bg.auto_promote.as_ref(), diags);
    let scale_down_delay = rollback_window(bg, diags);
    preview_headroom(bg, cx.autoscale, diags);

    let pre = bg
        .pre_promotion
        .as_ref()
        .and_then(|a| builder.template(format!("{}-pre-promotion", cx.service), a, &preview, false, diags));
    let post = bg
        .post_promotion
        .as_ref()
        .and_then(|a| builder.template(format!("{}-post-promotion", cx.service), a, &active, false, diags));

    // Deploy timing: analyses and an automatic-promotion delay; the time a
    // person takes to promote is outside the budget.
    let mut timing = Timing { parts: Vec::new(), manual: u64::from(!auto_promote) };
    if let Some(a) = &bg.pre_promotion {
        timing.parts.push((a.node, analysis_seconds(a), "pre-promotion analysis"));
    }
    if auto_promote && let (Some(ap), Some(s)) = (&bg.auto_promote, auto_promote_seconds) {
        timing.parts.push((ap.after.as_ref().map_or(ap.node, |d| d.span), s, "promotion delay"));
    }
    if let Some(a) = &bg.post_promotion {
        timing.parts.push((a.node, analysis_seconds(a), "post-promotion analysis"));
    }
    let wait = timing.wait(bg.deploy_budget.as_ref(), diags);

    if diags.error_count() > errors {
        return None;
    }
    Some((
        wait,
        PlanStrategy::BlueGreen {
            active_service: active,
            preview_service: preview.clone(),
            auto_promote,
            auto_promote_seconds: if auto_promote { auto_promote_seconds } else { None },
            scale_down_delay,
            preview_replicas: bg.preview_replicas.as_ref().map(|p| p.value),
            pre_promotion: pre,
            post_promotion: post,
        },
        preview,
    ))
}

/// Whether and when a blue-green update promotes itself: (automatic, after seconds).
fn promotion(ap: Option<&AutoPromote>, diags: &mut Diagnostics) -> (bool, Option<u64>) {
    match ap {
        None => (true, None),
        Some(ap) => {
            let enabled = ap.enabled.as_ref().is_none_or(|e| e.value);
            if let (Some(e), Some(after)) = (&ap.enabled, &ap.after)
                && !e.value
            {
                diags.push(
                    Diagnostic::error(
                        Code::PromotionConflict,
                        "`auto-promote #false` waits for a person, but `after` promotes automatically",
                    )
                    .at(after.span, "promotes automatically after this delay")
                    .also(e.span, "auto-promotion is off")
                    .help("keep `auto-promote #false` to promote by hand, or `auto-promote after=\"10m\"` to promote after a delay"),
                );
            }
            (enabled, ap.after.as_ref().map(|d| d.value.seconds()))
        }
    }
}

/// The rollback window (seconds): the old ReplicaSet stays scaled up this
/// long after the switch, which is what makes `kubectl argo rollouts undo`
/// instant (SVC0320 when it is too short).
fn rollback_window(bg: &BlueGreen, diags: &mut Diagnostics) -> u64 {
    let post_seconds = bg.post_promotion.as_ref().map_or(0, analysis_seconds);
    match &bg.rollback_window {
        Some(w) => {
            let s = w.value.seconds();
            if s < defaults::MIN_ROLLBACK_WINDOW {
                diags.push(
                    Diagnostic::error(
                        Code::RollbackWindow,
                        format!("a rollback window of {} is too short for an instant rollback", secs(s)),
                    )
                    .at(w.span, "the old version is scaled down this soon after the switch")
                    .help("keep the old ReplicaSet for at least 30s: `rollback-window \"5m\"`")
                    .note("rolling back within the window only switches the active Service back; after it, the old pods must be started again"),
                );
            } else if s < post_seconds
                && let Some(post) = &bg.post_promotion
            {
                diags.push(
                    Diagnostic::error(
                        Code::RollbackWindow,
                        format!(
                            "the rollback window ({}) ends before the post-promotion analysis ({})",
                            secs(s),
                            secs(post_seconds)
                        ),
                    )
                    .at(w.span, "the old version is scaled down this soon")
                    .also(post.node, format!("runs for up to {}", secs(post_seconds)))
                    .help(format!("keep the old version until the analysis is done: `rollback-window \"{}\"`", secs(post_seconds)))
                    .note("Argo Rollouts cancels the post-promotion analysis when it scales the old ReplicaSet down, so a bad release would stay"),
                );
            }
            s
        }
        None => defaults::MIN_ROLLBACK_WINDOW.max(post_seconds),
    }
}

/// SVC0208: the second Service's name, derived from the service's
/// (`NAME-preview`, `NAME-canary`), must be a DNS label of at most 63
/// characters too; reported at the service name, which is what to change.
fn derived_name_fits(cx: &Context<'_>, blue_green: bool, node: Span, diags: &mut Diagnostics) -> bool {
    let (second, suffix, what) = if blue_green {
        (Some(&cx.names.preview_service), "-preview", "blue-green")
    } else {
        (cx.names.canary_service.as_ref(), "-canary", "canary")
    };
    // A name written in `names` was checked where it was decoded.
    let Some(second) = second.filter(|n| n.span.is_none()).map(|n| &n.name) else { return true };
    if second.len() <= 63 {
        return true;
    }
    diags.push(
        Diagnostic::error(
            Code::InvalidName,
            format!("the service name is too long for `{what}`: its Service `{second}` would have {} characters", second.len()),
        )
        .at(cx.origin, format!("{} characters, plus `{suffix}`", cx.service.len()))
        .also(node, format!("adds a second Service, named after the service with `{suffix}`"))
        .help(format!(
            "shorten the service name to at most {} characters, or name the Service: `names {{ {}-service \"…\" }}`",
            63 - suffix.len(),
            if blue_green { "preview" } else { "canary" }
        ))
        .note("a Service name is a DNS label of at most 63 characters; with blue-green a service name has at most 55, with canary 56"),
    );
    false
}

/// SVC0324: preview pods must fit in the autoscaler's headroom. One preview
/// pod always does: an update needs one, and without `preview-replicas`
/// the preview is as large as the active side.
fn preview_headroom(bg: &BlueGreen, autoscale: Option<&PlanAutoscale>, diags: &mut Diagnostics) {
    if let (Some(p), Some(a)) = (&bg.preview_replicas, autoscale)
        && p.value > a.max.saturating_sub(a.min).max(1)
    {
        diags.push(
            Diagnostic::error(
                Code::PreviewStarvesActive,
                format!(
                    "{} preview replicas leave the autoscaler no room to grow the active side (min {}, max {})",
                    p.value, a.min, a.max
                ),
            )
            .at(p.span, "runs beside the active side during every update")
            .also(a.span, "the autoscaler may need up to `max` pods for the active side")
            .help(format!(
                "keep the preview within the autoscaler's headroom: `preview-replicas {}`, or raise `max`",
                a.max.saturating_sub(a.min).max(1)
            ))
            .note("svcc plans a service's capacity for `autoscale max` pods; preview pods serve no production traffic but take that capacity"),
        );
    }
}

fn over_budget(budget: &Spanned<Duration>, parts: &[(Span, u64, &str)], diags: &mut Diagnostics) {
    let total: u64 = parts.iter().map(|(_, s, _)| s).sum();
    let allowed = budget.value.seconds();
    if total <= allowed {
        return;
    }
    let mut d = Diagnostic::error(
        Code::DeployBudget,
        format!("the update takes at least {} but the deploy budget is {}", secs(total), secs(allowed)),
    )
    .at(budget.span, "budget");
    for (span, s, what) in parts {
        if *s > 0 {
            d = d.also(*span, format!("{what}: {}", secs(*s)));
        }
    }
    diags.push(
        d.help("shorten the analyses (`count` × `interval`) or the pauses, or raise `deploy-budget`").note(
            "an analysis gate runs `count` measurements `interval` apart; gates of one analysis run side by side",
        ),
    );
}

fn canary_strategy(
    cx: &Context<'_>,
    c: &Canary,
    builder: &mut Builder<'_>,
    diags: &mut Diagnostics,
) -> Option<(u64, PlanStrategy)> {
    let errors = diags.error_count();
    // Without a canary Service, the gates measure the main Service: both versions.
    let canary = cx.names.canary_service.as_ref().unwrap_or(&cx.names.service).name.clone();
    let max_surge = c.max_surge.as_ref().map_or(IntOrPercent::Percent(25), |v| v.value);
    let max_unavailable = c.max_unavailable.as_ref().map_or(IntOrPercent::Int(0), |v| v.value);
    if max_surge.is_zero() && max_unavailable.is_zero() {
        let at = c.max_surge.as_ref().or(c.max_unavailable.as_ref()).map_or(c.node, |v| v.span);
        diags.push(
            Diagnostic::error(
                Code::RolloutStalls,
                "a canary with `max-surge` 0 and `max-unavailable` 0 can never progress",
            )
            .at(at, "both are zero")
            .help("keep `max-unavailable 0` for zero downtime and allow a surge: `max-surge 1`"),
        );
    }
    if let Some(t) = &c.traffic
        && cx.names.canary_service.is_none()
    {
        diags.push(
            Diagnostic::error(Code::TrafficNeedsCanaryService, "a traffic router needs the canary Service, and `names` turns it off")
                .at(t.node, "routes the canary's share through the canary Service")
                .help("keep the canary Service (remove `canary-service #false` from `names`), or leave `traffic` out for a replica-weighted canary")
                .note("Argo Rollouts refuses a Rollout with `trafficRouting` but no `canaryService`: the router sends the canary's share to that Service"),
        );
    }
    let empty = Vec::new();
    let steps = c.steps.as_ref().map_or(&empty, |s| &s.value);

    steps::check_weights(c, steps, diags);
    steps::check_promotion(c, steps, diags);

    let background = c
        .background
        .as_ref()
        .and_then(|a| builder.template(format!("{}-canary-background", cx.service), a, &canary, true, diags));
    let mut plan_steps = Vec::new();
    let mut timing = Timing { parts: Vec::new(), manual: 0 };
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::SetWeight(w) => plan_steps.push(PlanStep::SetWeight(w.value)),
            Step::Pause { node: _, duration, bare } => {
                match duration {
                    Some(d) => timing.parts.push((d.span, d.value.seconds(), "pause")),
                    None => timing.manual += 1,
                }
                plan_steps.push(PlanStep::Pause { seconds: duration.as_ref().map(|d| d.value.seconds()), bare: *bare });
            }
            Step::Analysis(a) => {
                timing.parts.push((a.node, analysis_seconds(a), "analysis"));
                if let Some(name) =
                    builder.template(format!("{}-canary-step-{}", cx.service, i + 1), a, &canary, false, diags)
                {
                    plan_steps.push(PlanStep::Analysis(name));
                }
            }
        }
    }
    let wait = timing.wait(c.deploy_budget.as_ref(), diags);
    if diags.error_count() > errors {
        return None;
    }
    let router = c.traffic.as_ref().map(|t| match t.provider.value.as_str() {
        "gateway-api" => PlanRouter::GatewayApi,
        _ => {
            PlanRouter::Nginx { ingress: t.ingress.as_ref().map_or(cx.names.service.name.clone(), |i| i.value.clone()) }
        }
    });
    Some((
        wait,
        PlanStrategy::Canary {
            // With a traffic router, the service's own Service is the stable one
            // the Ingress or route already points at; without one it keeps selecting
            // every pod, so traffic follows the replica ratio.
            stable_service: router.as_ref().map(|_| cx.names.service.name.clone()),
            canary_service: cx.names.canary_service.as_ref().map(|n| n.name.clone()),
            max_surge,
            max_unavailable,
            router,
            background,
            steps: plan_steps,
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::metadata::{canary_service, preview_service};

    #[test]
    fn derived_service_names() {
        assert_eq!(preview_service("backend-api"), "backend-api-preview");
        assert_eq!(canary_service("backend-api"), "backend-api-canary");
    }
}
