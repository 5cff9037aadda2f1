//! Importing one workload: map, build, patch what is left, settle the ledger.

use serde_json::Value;

use super::blocks::{self, Cx};
use super::diff::{self, Set};
use super::group::Workload;
use super::ledger::{Fate, Ledger, under};
use super::render::{self, PatchBlock, Piece, SpecNode};
use super::report::ServiceReport;
use super::{Imported, Object, Options};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Severity};
use crate::lower::Object as Generated;
use crate::pipeline::{self, Input, Run};

/// The image of a spec whose input image svcc refuses (a patch writes the real one).
pub const PLACEHOLDER_IMAGE: &str = "example.invalid/svcc-import-placeholder";

/// Builds of one environment before import gives up on a workload.
const MAX_ROUNDS: usize = 12;

/// Fields the API server writes; they are state, not configuration.
const SERVER_SET: &[&str] = &[
    "/status",
    "/metadata/uid",
    "/metadata/resourceVersion",
    "/metadata/generation",
    "/metadata/creationTimestamp",
    "/metadata/managedFields",
    "/metadata/selfLink",
    "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
    "/metadata/annotations/deployment.kubernetes.io~1revision",
];

/// The result of one environment.
pub(crate) struct EnvImport {
    pub nodes: Vec<SpecNode>,
    /// The last build of exactly these nodes.
    pub run: Run,
    /// Per input object: the generated object it became (kind, name), the
    /// sets written for it, and why fields differ.
    pub objects: Vec<Account>,
}

pub(crate) struct Account {
    pub ledger: usize,
    pub target: Option<(String, String)>,
    pub sets: Vec<String>,
    pub reasons: Vec<(String, Fate)>,
}

fn build(text: &str) -> Run {
    let input = Input { name: "service.kdl".into(), bytes: text.as_bytes().to_vec() };
    let opts = pipeline::Options { check_only: true, ..pipeline::Options::default() };
    pipeline::run(&input, &[], &crate::NoFiles, &opts)
}

fn errors(run: &Run) -> Vec<&Diagnostic> {
    run.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect()
}

/// Why a workload could not be imported (SVC0812), boxed: it is the rare path.
pub type Failure = Box<Diagnostic>;

fn failed(name: &str, why: String) -> Failure {
    Box::new(
        Diagnostic::error(Code::ImportFailed, format!("the spec imported for `{name}` does not build: {why}"))
            .help("please report this input; until then, leave this workload out of the import"),
    )
}

pub(crate) fn header(w: &Workload) -> String {
    let mut sources: Vec<&str> = w
        .environments
        .iter()
        .flat_map(|(_, os)| os.iter().map(|o| o.source.rsplit_once(':').map_or(o.source.as_str(), |(f, _)| f)))
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let mut h = String::from("// Imported by `svcc import` (docs/import.md) from:\n");
    for s in sources.iter().take(20) {
        h.push_str(&format!("//   {}\n", super::kdl::string(s)));
    }
    h
}

/// Import one workload (all its environments) into one spec.
pub fn import_service(w: &Workload, multi: bool, opts: &Options) -> Result<(Imported, ServiceReport), Failure> {
    let mut ledger = Ledger::default();
    let header = header(w);
    let mut envs = Vec::new();
    for (env, objs) in &w.environments {
        let ids: Vec<usize> =
            objs.iter().map(|o| ledger.open(env, &o.kind, &o.name, o.source.clone(), &o.value)).collect();
        let r = import_env(&header, &w.name, multi.then_some(env.as_str()), objs, &ids, &mut ledger, opts)?;
        envs.push((env.clone(), r));
    }
    let (text, run) = if multi {
        let nodes: Vec<(String, Vec<SpecNode>)> = envs.iter().map(|(e, r)| (e.clone(), r.nodes.clone())).collect();
        let text = render::combined(&header, &w.name, &nodes, true);
        let run = build(&text);
        if errors(&run).is_empty() {
            (text, run)
        } else {
            // Shared nodes can interact with an environment's (a merge, an
            // order): then every environment says everything itself.
            let text = render::combined(&header, &w.name, &nodes, false);
            let run = build(&text);
            (text, run)
        }
    } else {
        // The last build of this environment built exactly this text.
        let text = render::spec(&header, &w.name, &envs[0].1.nodes, &[], None).text;
        (text, envs[0].1.run.clone())
    };
    if let Some(d) = errors(&run).first() {
        if std::env::var_os("SVCC_IMPORT_DEBUG").is_some() {
            let at = d.primary.as_ref().map_or(0, |l| l.span.start as usize);
            return Err(failed(&w.name, format!("{} at {at} in\n{text}", d.message)));
        }
        return Err(failed(&w.name, d.message.clone()));
    }
    for ((env, r), (_, objs)) in envs.iter().zip(&w.environments) {
        let plan = run.plans.iter().position(|p| p.environment == *env || !multi);
        let Some(generated) = plan.and_then(|i| run.objects.get(i)) else {
            return Err(failed(&w.name, format!("no environment `{env}`")));
        };
        settle(&mut ledger, objs, r, generated);
    }
    let added = additions(&envs, &w.environments, &run, multi);
    let objects = ledger.close().map_err(|p| failed(&w.name, p.join("; ")))?;
    let mut diags = Diagnostics::new();
    let text = crate::format::format(&text, &mut diags).ok_or_else(|| failed(&w.name, "svcc fmt refused it".into()))?;
    let report = ServiceReport::new(&w.name, objects, added);
    Ok((Imported { service: w.name.clone(), text }, report))
}

/// Per generated object: how many fields svcc adds that the input lacks.
fn additions(
    envs: &[(String, EnvImport)],
    inputs: &[(String, Vec<Object>)],
    run: &Run,
    multi: bool,
) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for ((env, r), (_, objs)) in envs.iter().zip(inputs) {
        let plan = run.plans.iter().position(|p| p.environment == *env || !multi).unwrap_or(0);
        for g in run.objects.get(plan).into_iter().flatten() {
            let key = (g.kind.as_str().to_string(), g.name.clone());
            let input =
                r.objects.iter().zip(objs).find(|(a, _)| a.target.as_ref() == Some(&key)).map(|(_, o)| &o.value);
            let n = input.map_or_else(|| diff::count(&g.value), |i| diff::added(&g.value, i));
            out.push((format!("{}/{}", key.0, key.1), env.clone(), n));
        }
    }
    out
}

/// The generated object an input object becomes: same kind and name, or
/// the first of its kind no other input took.
fn matches(objs: &[Object], generated: &[Generated]) -> Vec<Option<usize>> {
    let mut taken = vec![false; generated.len()];
    let mut out = vec![None; objs.len()];
    for (i, o) in objs.iter().enumerate() {
        if let Some(g) = generated.iter().position(|g| g.kind.as_str() == o.kind && g.name == o.name) {
            taken[g] = true;
            out[i] = Some(g);
        }
    }
    for (i, o) in objs.iter().enumerate() {
        if out[i].is_none()
            && let Some(g) = (0..generated.len()).find(|&g| !taken[g] && generated[g].kind.as_str() == o.kind)
        {
            taken[g] = true;
            out[i] = Some(g);
        }
    }
    out
}

/// Map the native nodes; build until svcc accepts them all.
fn native(
    header: &str,
    name: &str,
    env: Option<&str>,
    objs: &[Object],
    ids: &[usize],
    ledger: &mut Ledger,
    harden: bool,
) -> Result<(Vec<SpecNode>, Run), Failure> {
    // References to hashed config maps by their spec names (svcc hashes them back).
    let objs = &blocks::unhash(objs);
    let mut cx = Cx::new(name, objs, harden);
    blocks::map(&mut cx);
    for (obj, prefix, block) in &cx.claims {
        ledger.claim(ids[*obj], prefix, block);
    }
    let mut nodes = cx.nodes;
    for _ in 0..MAX_ROUNDS {
        let r = render::spec(header, name, &nodes, &[], env);
        let run = build(&r.text);
        let errs = errors(&run);
        if errs.is_empty() {
            return Ok((nodes, run));
        }
        let mut drop = Vec::new();
        for d in errs {
            match d.primary.as_ref().and_then(|l| r.piece_at(l.span.start as usize)) {
                Some(Piece::Node(i)) => drop.push(i),
                // An error the nodes cause together (a missing image): not ours to fix.
                _ => return Err(failed(name, d.message.clone())),
            }
        }
        drop.sort_unstable();
        drop.dedup();
        for i in drop.into_iter().rev() {
            let gone = nodes.remove(i);
            // A service needs an image: a refused one (a `latest` tag, an
            // uppercase path) gives way to the repository alone, then to a
            // placeholder, and a patch writes the input's image.
            if gone.key == "image" {
                let fallback = match gone.text.split_once(" tag=").or_else(|| gone.text.split_once(" digest=")) {
                    Some((head, _)) => head.to_string(),
                    None => format!("image {}", super::kdl::string(PLACEHOLDER_IMAGE)),
                };
                if fallback != gone.text {
                    nodes.insert(0, SpecNode { key: "image".into(), text: fallback });
                }
            }
        }
    }
    Err(failed(name, "too many rounds".into()))
}

/// Import one environment of a workload.
fn import_env(
    header: &str,
    name: &str,
    env: Option<&str>,
    objs: &[Object],
    ids: &[usize],
    ledger: &mut Ledger,
    opts: &Options,
) -> Result<EnvImport, Failure> {
    for &id in ids {
        let fate = Fate::Dropped("set by the API server, not configuration".into());
        ledger.settle_open(id, |p| SERVER_SET.iter().any(|s| under(p, s)).then(|| fate.clone()));
    }
    let (nodes, run) = native(header, name, env, objs, ids, ledger, opts.harden)?;
    let generated = run.objects.first().cloned().unwrap_or_default();
    let found = matches(objs, &generated);
    let mut accounts = Vec::new();
    let mut blocks: Vec<PatchBlock> = Vec::new();
    let mut owners: Vec<usize> = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let mut acc = Account { ledger: ids[i], target: None, sets: Vec::new(), reasons: Vec::new() };
        let Some(g) = found[i].map(|g| &generated[g]) else {
            let why = format!("svcc generates no further {} for a service yet", o.kind);
            ledger.settle_under(ids[i], "", &Fate::Dropped(why));
            accounts.push(acc);
            continue;
        };
        acc.target = Some((g.kind.as_str().to_string(), g.name.clone()));
        let sets = plan_sets(o, g, &mut acc, opts);
        if !sets.is_empty() {
            let several = generated.iter().filter(|x| x.kind == g.kind).count() > 1;
            blocks.push(PatchBlock { kind: g.kind.as_str().into(), name: several.then(|| g.name.clone()), sets });
            owners.push(i);
        }
        accounts.push(acc);
    }
    let run = if blocks.is_empty() {
        run
    } else {
        patch_rounds(header, name, env, &nodes, &mut blocks, &owners, &mut accounts)?
    };
    let mut nodes = nodes;
    for b in &blocks {
        let key = format!("patch {} {}", b.kind, b.name.as_deref().unwrap_or(""));
        nodes.push(SpecNode { key, text: render::patch_text(b, None) });
    }
    Ok(EnvImport { nodes, run, objects: accounts })
}

/// The sets that make `g` into `o`, minus what svcc decides by design.
fn plan_sets(o: &Object, g: &Generated, acc: &mut Account, opts: &Options) -> Vec<Set> {
    let mut input = o.value.clone();
    let mut fixed = |input: &mut Value, p: &str, fate: Fate| {
        let theirs = input.pointer(p).cloned();
        let ours = g.value.pointer(p).cloned();
        if theirs.is_some() && theirs != ours {
            acc.reasons.push((p.to_string(), fate));
        }
        replace(input, p, ours);
    };
    for p in SERVER_SET {
        fixed(&mut input, p, Fate::Dropped("set by the API server, not configuration".into()));
    }
    fixed(&mut input, "/apiVersion", Fate::Changed(format!("svcc writes {}", g.kind.api_version())));
    fixed(&mut input, "/metadata/name", Fate::Changed(format!("svcc names this object `{}`", g.name)));
    fixed(
        &mut input,
        "/metadata/namespace",
        Fate::Changed("the namespace comes from `namespace` or the environment".into()),
    );
    fixed(
        &mut input,
        "/metadata/labels/app.kubernetes.io~1managed-by",
        Fate::Changed("svcc marks its objects `managed-by: svcc`".into()),
    );
    final_step(&mut input, &g.value);
    if opts.harden {
        for p in selectors(&o.kind) {
            fixed(&mut input, p, Fate::Changed(HARDEN_COST.into()));
        }
    }
    let kind = o.kind.clone();
    let whole = move |p: &str| selectors(&kind).contains(&p);
    let mut out = Vec::new();
    for s in diff::sets(&g.value, &input, &whole) {
        match super::kdl::unwritable(&s.value) {
            Some(why) => acc.reasons.push((s.covers.clone(), Fate::Dropped(why.into()))),
            None => out.push(s),
        }
    }
    out
}

/// A canary's steps that stop short of 100%: svcc asks for the last
/// `set-weight 100` (SVC0322), which changes nothing (Argo Rollouts goes to
/// 100% after the last step anyway). That step is svcc's addition, like a
/// label, not a difference to patch away.
fn final_step(input: &mut Value, generated: &Value) {
    const STEPS: &str = "/spec/strategy/canary/steps";
    let (Some(Value::Array(theirs)), Some(Value::Array(ours))) = (input.pointer(STEPS), generated.pointer(STEPS))
    else {
        return;
    };
    let last = serde_json::json!({ "setWeight": 100 });
    if ours.len() == theirs.len() + 1 && theirs.last() != Some(&last) && ours.last() == Some(&last) {
        let mut steps = theirs.clone();
        steps.push(last);
        replace(input, STEPS, Some(Value::Array(steps)));
    }
}

pub const HARDEN_COST: &str = "--harden: svcc's identity selector replaces it; a Deployment's selector cannot change in place, so applying recreates the workload (delete, then apply), and Services switch to the new pod labels";

/// Where a selector is a whole value (its exact label set).
fn selectors(kind: &str) -> &'static [&'static str] {
    match kind {
        "Deployment" | "Rollout" | "PodDisruptionBudget" | "ServiceMonitor" => &["/spec/selector"],
        "Service" => &["/spec/selector"],
        _ => &[],
    }
}

/// Set `p` in `v` to `to` (or remove it).
fn replace(v: &mut Value, p: &str, to: Option<Value>) {
    let Some((parent, last)) = p.rsplit_once('/') else { return };
    let key = last.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        match to {
            Some(x) => {
                m.insert(key, x);
            }
            None => {
                m.shift_remove(&key);
            }
        }
    }
}

/// Build with the patches until svcc accepts them all: a refused set is
/// taken out and its fields listed with svcc's reason.
fn patch_rounds(
    header: &str,
    name: &str,
    env: Option<&str>,
    nodes: &[SpecNode],
    blocks: &mut Vec<PatchBlock>,
    owners: &[usize],
    accounts: &mut [Account],
) -> Result<Run, Failure> {
    let mut owners = owners.to_vec();
    for _ in 0..MAX_ROUNDS {
        let r = render::spec(header, name, nodes, blocks, env);
        let run = build(&r.text);
        if errors(&run).is_empty() {
            for (b, &o) in blocks.iter().zip(&owners) {
                accounts[o].sets.extend(b.sets.iter().map(|s| s.covers.clone()));
            }
            return Ok(run);
        }
        let mut refused: Vec<(usize, usize, Fate)> = Vec::new();
        for d in errors(&run) {
            let why = format!("{}: {} (svcc refuses it)", d.code, d.message);
            let fate = if d.code == Code::PatchWeakensSecurity { Fate::Changed(why) } else { Fate::Dropped(why) };
            match d.primary.as_ref().and_then(|l| r.piece_at(l.span.start as usize)) {
                Some(Piece::Op(b, i)) => refused.push((b, i, fate)),
                _ => return Err(failed(name, d.message.clone())),
            }
        }
        refused.sort_by_key(|(b, i, _)| (*b, *i));
        refused.dedup_by_key(|(b, i, _)| (*b, *i));
        for (b, i, fate) in refused.into_iter().rev() {
            let s = blocks[b].sets.remove(i);
            accounts[owners[b]].reasons.push((s.covers, fate));
        }
        let mut k = 0;
        blocks.retain(|b| {
            let keep = !b.sets.is_empty();
            if !keep {
                owners.remove(k);
            } else {
                k += 1;
            }
            keep
        });
    }
    Err(failed(name, "too many rounds".into()))
}

/// Settle every open leaf of the environment's objects against the final build.
fn settle(ledger: &mut Ledger, objs: &[Object], r: &EnvImport, generated: &[Generated]) {
    use std::collections::BTreeMap;
    for (o, acc) in objs.iter().zip(&r.objects) {
        let fin =
            acc.target.as_ref().and_then(|(k, n)| generated.iter().find(|g| g.kind.as_str() == k && &g.name == n));
        let mut theirs = BTreeMap::new();
        super::ledger::leaf_values(&o.value, &mut String::new(), &mut theirs);
        let mut ours = BTreeMap::new();
        if let Some(g) = fin {
            super::ledger::leaf_values(&g.value, &mut String::new(), &mut ours);
        }
        ledger.settle_open(acc.ledger, |p| {
            let same = fin.is_some() && ours.get(p).is_some_and(|v| Some(v) == theirs.get(p));
            Some(if same {
                if acc.sets.iter().any(|s| under(p, s)) { Fate::Patched } else { Fate::Native }
            } else {
                acc.reasons
                    .iter()
                    .rev()
                    .find(|(q, _)| under(p, q))
                    .map_or_else(|| Fate::Dropped("svcc writes another value here".into()), |(_, f)| f.clone())
            })
        });
    }
}
