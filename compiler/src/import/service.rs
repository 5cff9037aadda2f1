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
    /// The last build of exactly these nodes (taken by the one-environment spec).
    pub run: Option<Run>,
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
    build_as(text, false)
}

fn options(objects_only: bool) -> pipeline::Options {
    pipeline::Options { check_only: true, objects_only, ..pipeline::Options::default() }
}

/// A build; `objects_only`: no validation or admission (a native build
/// whose objects only seed the patch diff, see [`import_service`]).
fn build_as(text: &str, objects_only: bool) -> Run {
    let input = Input { name: "service.kdl".into(), bytes: text.as_bytes().to_vec() };
    pipeline::run(&input, &[], &crate::NoFiles, &options(objects_only))
}

/// The build of `text` (with validation), given an earlier build of the
/// same text: that one when it validated; when it was objects only, that
/// one finished when it can be ([`pipeline::finish_objects_only`]: the
/// same objects and errors, without parsing and lowering again); else a
/// new build.
fn rebuild(text: &str, earlier: Run, quick: bool) -> Run {
    if !quick {
        return earlier;
    }
    pipeline::finish_objects_only(earlier, &options(false)).unwrap_or_else(|| build(text))
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
///
/// The native builds, whose objects only seed the patch diff, first skip
/// validation and admission: every build after them runs both, and the
/// last is the one the ledger settles against. A node those would refuse
/// then fails a later build, and the workload is imported once more with
/// native builds that validate, which take such a node out.
pub fn import_service(w: &Workload, multi: bool, opts: &Options) -> Result<(Imported, ServiceReport), Failure> {
    import_with(w, multi, opts, true).or_else(|_| import_with(w, multi, opts, false))
}

/// [`import_service`]; `quick`: native builds without validation.
fn import_with(w: &Workload, multi: bool, opts: &Options, quick: bool) -> Result<(Imported, ServiceReport), Failure> {
    let mut ledger = Ledger::default();
    let header = header(w);
    let mut mapped: Vec<Mapped> = Vec::new();
    for (env, objs) in &w.environments {
        let ids: Vec<usize> =
            objs.iter().map(|o| ledger.open(env, &o.kind, &o.name, o.source.clone(), &o.value)).collect();
        let (nodes, designed) = map_env(&w.name, objs, &ids, &mut ledger, opts.harden);
        mapped.push(Mapped { env, objs, ids, nodes, designed });
    }
    let (envs, text, run) = if multi {
        let (planned, native) = natives(&header, &w.name, mapped, &mut ledger, (opts, quick))?;
        combine(&header, &w.name, planned, native.map(|(text, run)| (text, run, quick)))?
    } else {
        let m = mapped.pop().ok_or_else(|| failed(&w.name, "no environment".into()))?;
        let (nodes, run) = native_rounds(&header, &w.name, None, m.nodes, quick)?;
        let generated = run.objects.first().map_or(&[][..], Vec::as_slice);
        let (accounts, blocks, owners) = plan_patches(m.objs, (&m.ids, &m.designed), generated, &mut ledger, opts);
        let (env, p) = (m.env.clone(), Planned { nodes, run: Some(run), accounts, blocks, owners });
        let patches = !p.blocks.is_empty();
        let mut r = p.patched(&header, &w.name, None)?;
        // The last build of this environment built exactly this text (the
        // native build, when there are no patches: once more with
        // validation if it had none).
        let text = render::spec(&header, &w.name, &r.nodes, &[], None).text;
        let run = match r.run.take() {
            Some(run) if !patches => rebuild(&text, run, quick),
            Some(run) => run,
            None => return Err(failed(&w.name, "no build".into())),
        };
        (vec![(env, r)], text, run)
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
    // The text was built, so it parses: when it is laid out as `svcc fmt`
    // lays it out (import renders it so), formatting it changes nothing.
    let text = if crate::format::is_formatted(&text) {
        text
    } else {
        let mut diags = Diagnostics::new();
        crate::format::format(&text, &mut diags).ok_or_else(|| failed(&w.name, "svcc fmt refused it".into()))?
    };
    let report = ServiceReport::new(&w.name, objects, added);
    Ok((Imported { service: w.name.clone(), text }, report))
}

/// The spec of several environments and its build. First optimistically:
/// every environment's patches as planned, in one build of the combined
/// spec (an environment's patches are refused by its own build or by
/// neither, so this is what building each first gives when it accepts
/// them). Otherwise as the one-environment import: each environment built
/// with its patches until svcc accepts them all, then combined.
///
/// `native`: the native build of every environment together (its text,
/// the build, whether it was objects only), when [`natives`] kept it: the
/// first build, when no environment has patches, is of the same text.
fn combine(
    header: &str,
    name: &str,
    planned: Vec<(String, Planned)>,
    native: Option<(String, Run, bool)>,
) -> Result<Combined, Failure> {
    let nodes: Vec<(String, Vec<SpecNode>)> = planned.iter().map(|(e, p)| (e.clone(), p.with_patches())).collect();
    let first = render::combined(header, name, &nodes, true);
    let run = match native {
        Some((text, run, quick)) if text == first => rebuild(&first, run, quick),
        _ => build(&first),
    };
    if errors(&run).is_empty() {
        let envs = planned.into_iter().zip(nodes).map(|((e, p), (_, n))| (e, p.accepted(n))).collect();
        return Ok((envs, first, run));
    }
    let mut envs = Vec::new();
    for (e, p) in planned {
        let r = p.patched(header, name, Some(&e))?;
        envs.push((e, r));
    }
    let nodes: Vec<(String, Vec<SpecNode>)> = envs.iter().map(|(e, r)| (e.clone(), r.nodes.clone())).collect();
    let text = render::combined(header, name, &nodes, true);
    let run = if text == first { run } else { build(&text) };
    if errors(&run).is_empty() {
        return Ok((envs, text, run));
    }
    // Shared nodes can interact with an environment's (a merge, an
    // order): then every environment says everything itself.
    let text = render::combined(header, name, &nodes, false);
    let run = build(&text);
    Ok((envs, text, run))
}

/// Every environment's import, the spec text and its build.
type Combined = (Vec<(String, EnvImport)>, String, Run);

/// One environment's input objects, their ledger accounts and the native
/// nodes the mappers wrote for them.
struct Mapped<'a> {
    env: &'a String,
    objs: &'a [Object],
    ids: Vec<usize>,
    nodes: Vec<SpecNode>,
    /// What the mappers say svcc writes another way on purpose ([`Cx::designed`]).
    designed: Vec<(usize, String, String)>,
}

/// The native build of every environment, and the patches each needs.
/// First one build of the native nodes laid out as the spec will be (the
/// nodes every environment has alike once, the rest in `environment`
/// blocks), so the patches make the objects of the spec that is written;
/// when svcc refuses anything there, each environment alone, as a
/// one-environment import does, until svcc accepts what is left. Also
/// the text and build of all together, when that is what was used.
fn natives(
    header: &str,
    name: &str,
    mapped: Vec<Mapped>,
    ledger: &mut Ledger,
    (opts, quick): (&Options, bool),
) -> Result<Natives, Failure> {
    let all: Vec<(String, Vec<SpecNode>)> = mapped.iter().map(|m| (m.env.clone(), m.nodes.clone())).collect();
    let text = render::combined(header, name, &all, true);
    let run = build_as(&text, quick);
    let objects = |env: &str| run.plans.iter().position(|p| p.environment == env).and_then(|i| run.objects.get(i));
    let together = errors(&run).is_empty() && mapped.iter().all(|m| objects(m.env).is_some());
    let mut out = Vec::new();
    for m in mapped {
        let (nodes, own) = if together {
            (m.nodes, None)
        } else {
            let (nodes, run) = native_rounds(header, name, Some(m.env), m.nodes, quick)?;
            (nodes, Some(run))
        };
        let generated = match &own {
            Some(r) => r.objects.first(),
            None => objects(m.env),
        };
        let generated = generated.map_or(&[][..], Vec::as_slice);
        let (accounts, blocks, owners) = plan_patches(m.objs, (&m.ids, &m.designed), generated, ledger, opts);
        out.push((m.env.clone(), Planned { nodes, run: own, accounts, blocks, owners }));
    }
    Ok((out, together.then_some((text, run))))
}

/// Every environment's plan, and the text and build of all together when
/// that is what they were planned from.
type Natives = (Vec<(String, Planned)>, Option<(String, Run)>);

/// One environment mapped and built, its patches planned but not built.
struct Planned {
    nodes: Vec<SpecNode>,
    /// The build of `nodes` alone (none when every environment was built together).
    run: Option<Run>,
    accounts: Vec<Account>,
    blocks: Vec<PatchBlock>,
    /// The input object (index into `accounts`) of each block.
    owners: Vec<usize>,
}

impl Planned {
    fn with_patches(&self) -> Vec<SpecNode> {
        let mut nodes = self.nodes.clone();
        nodes.extend(self.blocks.iter().map(patch_node));
        nodes
    }

    /// The environment with its patches as planned, accepted: `nodes` are
    /// [`Self::with_patches`].
    fn accepted(self, nodes: Vec<SpecNode>) -> EnvImport {
        let Planned { mut accounts, blocks, owners, .. } = self;
        mark_patched(&mut accounts, &blocks, &owners);
        EnvImport { nodes, run: None, objects: accounts }
    }

    /// Build with the patches until svcc accepts them all (no build when
    /// there are none: the native build is the last).
    fn patched(self, header: &str, name: &str, env: Option<&str>) -> Result<EnvImport, Failure> {
        let Planned { nodes, run, mut accounts, mut blocks, mut owners } = self;
        let run = if blocks.is_empty() {
            run
        } else {
            Some(patch_rounds(header, name, env, &nodes, &mut blocks, &mut owners, &mut accounts)?)
        };
        Ok(accept(nodes, accounts, &blocks, &owners, run))
    }
}

/// The environment with the patches `blocks` (of the input objects
/// `owners`) accepted: their fields are patched, and they join the nodes.
fn accept(
    mut nodes: Vec<SpecNode>,
    mut accounts: Vec<Account>,
    blocks: &[PatchBlock],
    owners: &[usize],
    run: Option<Run>,
) -> EnvImport {
    mark_patched(&mut accounts, blocks, owners);
    nodes.extend(blocks.iter().map(patch_node));
    EnvImport { nodes, run, objects: accounts }
}

/// The fields each block's sets write are patched (the settling says so).
fn mark_patched(accounts: &mut [Account], blocks: &[PatchBlock], owners: &[usize]) {
    for (b, &o) in blocks.iter().zip(owners) {
        accounts[o].sets.extend(b.sets.iter().map(|s| s.covers.clone()));
    }
}

fn patch_node(b: &PatchBlock) -> SpecNode {
    let key = format!("patch {} {}", b.kind, b.name.as_deref().unwrap_or(""));
    SpecNode { key, text: render::patch_text(b, None) }
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

/// Map the native nodes of one environment (the fields the API server
/// sets are settled first: no mapper reads them), and what the mappers
/// say svcc writes another way on purpose.
fn map_env(
    name: &str,
    objs: &[Object],
    ids: &[usize],
    ledger: &mut Ledger,
    harden: bool,
) -> (Vec<SpecNode>, Vec<(usize, String, String)>) {
    for &id in ids {
        let fate = Fate::Dropped("set by the API server, not configuration".into());
        ledger.settle_open(id, |p| SERVER_SET.iter().any(|s| under(p, s)).then(|| fate.clone()));
    }
    // References to hashed config maps by their spec names (svcc hashes them back).
    let objs = &blocks::unhash(objs);
    let mut cx = Cx::new(name, objs, harden);
    blocks::map(&mut cx);
    for (obj, prefix, block) in &cx.claims {
        ledger.claim(ids[*obj], prefix, block);
    }
    (cx.nodes, cx.designed)
}

/// Build one environment's native nodes until svcc accepts them all.
fn native_rounds(
    header: &str,
    name: &str,
    env: Option<&str>,
    mut nodes: Vec<SpecNode>,
    quick: bool,
) -> Result<(Vec<SpecNode>, Run), Failure> {
    for _ in 0..MAX_ROUNDS {
        let r = render::spec(header, name, &nodes, &[], env);
        let run = build_as(&r.text, quick);
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

/// The accounts of one environment's input objects and the patches that
/// make the native build's objects (`generated`) into them; `designed`:
/// fields svcc writes another way on purpose (object index, pointer, why).
fn plan_patches(
    objs: &[Object],
    (ids, designed): (&[usize], &[(usize, String, String)]),
    generated: &[Generated],
    ledger: &mut Ledger,
    opts: &Options,
) -> (Vec<Account>, Vec<PatchBlock>, Vec<usize>) {
    let found = matches(objs, generated);
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
        let mine: Vec<(&str, &str)> =
            designed.iter().filter(|(k, _, _)| *k == i).map(|(_, p, why)| (p.as_str(), why.as_str())).collect();
        let sets = plan_sets(o, g, &mut acc, (opts, &mine));
        if !sets.is_empty() {
            let several = generated.iter().filter(|x| x.kind == g.kind).count() > 1;
            blocks.push(PatchBlock { kind: g.kind.as_str().into(), name: several.then(|| g.name.clone()), sets });
            owners.push(i);
        }
        accounts.push(acc);
    }
    (accounts, blocks, owners)
}

/// The sets that make `g` into `o`, minus what svcc decides by design
/// (and the fields `designed` names, with their reasons).
fn plan_sets<'d>(
    o: &Object,
    g: &Generated,
    acc: &mut Account,
    (opts, designed): (&Options, &[(&'d str, &'d str)]),
) -> Vec<Set> {
    // The fields svcc decides, as svcc writes them: (pointer, svcc's value).
    // None lies under another, so each is read from the input as it came.
    let mut fixes: Vec<(&'d str, Option<&Value>)> = Vec::new();
    let mut fixed = |p: &'d str, fate: &dyn Fn() -> Fate| {
        let ours = super::diff::get(&g.value, p);
        let theirs = super::diff::get(&o.value, p);
        if theirs == ours {
            return;
        }
        if theirs.is_some() {
            acc.reasons.push((p.to_string(), fate()));
        }
        fixes.push((p, ours));
    };
    for p in SERVER_SET {
        fixed(p, &|| Fate::Dropped("set by the API server, not configuration".into()));
    }
    fixed("/apiVersion", &|| Fate::Changed(format!("svcc writes {}", g.kind.api_version())));
    fixed("/metadata/name", &|| Fate::Changed(format!("svcc names this object `{}`", g.name)));
    fixed("/metadata/namespace", &|| Fate::Changed("the namespace comes from `namespace` or the environment".into()));
    fixed("/metadata/labels/app.kubernetes.io~1managed-by", &|| {
        Fate::Changed("svcc marks its objects `managed-by: svcc`".into())
    });
    if opts.harden {
        for p in selectors(&o.kind) {
            fixed(p, &|| Fate::Changed(HARDEN_COST.into()));
        }
    }
    for (p, why) in designed {
        fixed(p, &|| Fate::Changed((*why).to_string()));
    }
    // The input with svcc's values there (copied only when one differs).
    let mut input = if fixes.is_empty() {
        std::borrow::Cow::Borrowed(&o.value)
    } else {
        let mut v = o.value.clone();
        for (p, ours) in fixes {
            replace(&mut v, p, ours.cloned());
            // A deprecated form svcc writes otherwise leaves no empty
            // object behind, which a patch would write over svcc's.
            if ours.is_none() && designed.iter().any(|(d, _)| *d == p) {
                prune(&mut v, p);
            }
        }
        std::borrow::Cow::Owned(v)
    };
    final_step(&mut input, &g.value);
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
fn final_step(input: &mut std::borrow::Cow<Value>, generated: &Value) {
    const STEPS: &str = "/spec/strategy/canary/steps";
    let (Some(Value::Array(theirs)), Some(Value::Array(ours))) = (input.pointer(STEPS), generated.pointer(STEPS))
    else {
        return;
    };
    let last = serde_json::json!({ "setWeight": 100 });
    if ours.len() == theirs.len() + 1 && theirs.last() != Some(&last) && ours.last() == Some(&last) {
        let mut steps = theirs.clone();
        steps.push(last);
        replace(input.to_mut(), STEPS, Some(Value::Array(steps)));
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

/// Remove the objects above `p` that are left empty (the root stays).
fn prune(v: &mut Value, p: &str) {
    let mut at = p;
    while let Some((parent, _)) = at.rsplit_once('/') {
        if parent.is_empty() || !v.pointer(parent).is_some_and(|x| x.as_object().is_some_and(serde_json::Map::is_empty))
        {
            return;
        }
        replace(v, parent, None);
        at = parent;
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
    owners: &mut Vec<usize>,
    accounts: &mut [Account],
) -> Result<Run, Failure> {
    for _ in 0..MAX_ROUNDS {
        let r = render::spec(header, name, nodes, blocks, env);
        let run = build(&r.text);
        if errors(&run).is_empty() {
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
    for (o, acc) in objs.iter().zip(&r.objects) {
        let fin =
            acc.target.as_ref().and_then(|(k, n)| generated.iter().find(|g| g.kind.as_str() == k && &g.name == n));
        ledger.settle_against(acc.ledger, &o.value, fin.map(|g| &g.value), |p, same| {
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
