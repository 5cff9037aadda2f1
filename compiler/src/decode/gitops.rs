//! The `gitops` block: `gitops argocd { … }` or `gitops flux { … }`, how a
//! GitOps engine deploys the service's environments (docs/gitops.md).
//! Which settings belong to which engine is checked once the layers are
//! merged (`check/gitops.rs`): a preset may refine a block whose engine an
//! org defaults file chose.

use kdl::{KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Cluster, Engine, Gitops};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "gitops",
    order: 32,
    summary: "Deploy with Argo CD or Flux: their objects, namespaces and a root folder per environment",
    doc: "language.md#gitops",
    args: "argocd|flux|#false",
    place: Place::SERVICE.or(Place::PRESET),
    children: Some(&GITOPS),
    elsewhere,
    ..Node::new(|n, d, c| c.body.gitops = Some(gitops(n, d)))
}];

/// Children of `gitops`, in documentation order.
const GITOPS: &[Node<Gitops>] = &[
    Node {
        name: "repo",
        summary: "Argo CD: the repository it reads the output from, and the revision",
        doc: "gitops.md#the-gitops-block",
        args: "URL",
        props: &["revision"],
        ..Node::new(repo)
    },
    Node {
        name: "path",
        summary: "The output folder's path in the repository (default: `-o`, from the repository root)",
        doc: "gitops.md#the-gitops-block",
        args: "PATH",
        ..Node::new(|n, d, g| g.path = one(n, d, "folder path", "path \"deploy\"", check_path))
    },
    Node {
        name: "namespace",
        summary: "Where the engine's objects go (default `argocd`, or `flux-system`)",
        doc: "gitops.md#the-gitops-block",
        args: "NAME",
        ..Node::new(|n, d, g| {
            g.namespace = one(n, d, "namespace", "namespace \"argocd\"", values::check_dns1123_label);
        })
    },
    Node {
        name: "name",
        summary: "The ApplicationSet's name, or the Flux Kustomizations' prefix (default `svcc`)",
        doc: "gitops.md#the-gitops-block",
        args: "NAME",
        ..Node::new(|n, d, g| g.name = one(n, d, "name", "name \"svcc\"", check_name))
    },
    Node {
        name: "application-set",
        summary: "Argo CD: one ApplicationSet (default), or `#false` for an Application each",
        doc: "gitops.md#the-gitops-block",
        args: "[#true|#false]",
        ..Node::new(|n, d, g| g.application_set = switch(n, d))
    },
    Node {
        name: "project",
        summary: "Argo CD: the Applications' project (default `default`); `create=#true` generates it",
        doc: "gitops.md#the-gitops-block",
        args: "NAME",
        props: &["create"],
        ..Node::new(project)
    },
    Node {
        name: "source",
        summary: "Flux: the source holding the repository (a GitRepository by default)",
        doc: "gitops.md#the-gitops-block",
        args: "NAME",
        props: &["kind", "namespace"],
        ..Node::new(source)
    },
    Node {
        name: "sync",
        summary: "How the engine syncs: automated, prune, self-heal (Argo CD); interval, prune, wait, timeout (Flux)",
        doc: "gitops.md#the-gitops-block",
        props: &["automated", "prune", "self-heal", "interval", "wait", "timeout"],
        ..Node::new(sync)
    },
    Node {
        name: "sync-options",
        summary: "Argo CD: sync options for the Applications, such as `ServerSideApply=true`",
        doc: "gitops.md#the-gitops-block",
        args: "OPTION…",
        ..Node::new(sync_options)
    },
    Node {
        name: "cluster",
        summary: "The cluster an environment deploys to (default: the engine's own)",
        doc: "gitops.md#the-gitops-block",
        args: "ENVIRONMENT NAME",
        repeat: true,
        ..Node::new(cluster)
    },
];

/// The kinds of Flux source a Kustomization may name.
pub const SOURCE_KINDS: &[&str] = &["GitRepository", "OCIRepository", "Bucket"];

fn gitops(node: &KdlNode, diags: &mut Diagnostics) -> Gitops {
    let mut g = Gitops::new(name_span(node));
    let mut r = NodeReader::new(node);
    g.engine = match r.arg(0) {
        Some(e) if matches!(e.value(), KdlValue::Bool(false)) => Some(Spanned::new(None, reader::value_span(e))),
        Some(e) => {
            let names: Vec<&'static str> = Engine::ALL.iter().map(|(n, _)| *n).collect();
            reader::choice(diags, e, &names).map(|s| {
                let engine = Engine::ALL.iter().find(|(n, _)| *n == s.value).map(|(_, e)| *e);
                Spanned::new(engine, s.span)
            })
        }
        None => None,
    };
    r.finish(diags);
    node::decode_children(GITOPS, node, Twice::InParent, &mut g, diags);
    g
}

/// `gitops` in an environment block.
fn elsewhere(node: &KdlNode, _parent: &str, _place: Place, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::error(Code::UnknownNode, "`gitops` cannot be set per environment")
            .at(name_span(node), "inside an environment")
            .help("write `gitops { … }` in the service (or the org defaults); name an environment's cluster with `cluster ENV NAME` inside it"),
    );
}

/// `repo "https://github.com/acme/deploy.git" revision="main"`.
fn repo(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    match r.arg(0) {
        Some(e) => g.repo = reader::name(diags, e, "repository URL", check_repo_url),
        None => diags.push(missing(
            r.name_span(),
            "a repository URL",
            "write `repo \"https://github.com/acme/deploy.git\"`",
        )),
    }
    g.revision = r.prop("revision").and_then(|e| reader::name(diags, e, "revision", check_revision));
    r.finish(diags);
    no_children(diags, node);
}

/// `project "payments" create=#true`.
fn project(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    match r.arg(0) {
        Some(e) => g.project = reader::name(diags, e, "project name", values::check_dns1123_subdomain),
        None => diags.push(missing(r.name_span(), "a project name", "write `project \"payments\"`")),
    }
    g.create_project = r.prop("create").and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    no_children(diags, node);
}

/// `source "deploy" kind="GitRepository" namespace="flux-system"`.
fn source(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    match r.arg(0) {
        Some(e) => g.source = reader::name(diags, e, "source name", values::check_dns1123_subdomain),
        None => diags.push(missing(r.name_span(), "the source's name", "write `source \"deploy\"`")),
    }
    g.source_kind = r.prop("kind").and_then(|e| reader::choice(diags, e, SOURCE_KINDS));
    g.source_namespace =
        r.prop("namespace").and_then(|e| reader::name(diags, e, "namespace", values::check_dns1123_label));
    r.finish(diags);
    no_children(diags, node);
}

/// `sync automated=#true prune=#true self-heal=#true` or
/// `sync interval="5m" prune=#true wait=#true timeout="3m"`.
fn sync(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    g.automated = r.prop("automated").and_then(|e| reader::boolean(diags, e));
    g.prune = r.prop("prune").and_then(|e| reader::boolean(diags, e));
    g.self_heal = r.prop("self-heal").and_then(|e| reader::boolean(diags, e));
    g.interval = r.prop("interval").and_then(|e| positive(diags, e));
    g.wait = r.prop("wait").and_then(|e| reader::boolean(diags, e));
    g.timeout = r.prop("timeout").and_then(|e| positive(diags, e));
    r.finish(diags);
    no_children(diags, node);
}

/// The Application-level sync options of Argo CD that svcc passes on, with
/// the values each takes (Argo CD's docs/user-guide/sync-options.md).
/// `CreateNamespace=true` is always set; `Prune` and `Delete` are the
/// `sync` node's and the Namespaces' business.
pub const SYNC_OPTIONS: &[(&str, &[&str])] = &[
    ("ApplyOutOfSyncOnly", &["true"]),
    ("FailOnSharedResource", &["true"]),
    ("PruneLast", &["true"]),
    ("PrunePropagationPolicy", &["foreground", "background", "orphan"]),
    ("Replace", &["true"]),
    ("RespectIgnoreDifferences", &["true"]),
    ("ServerSideApply", &["true", "false"]),
    ("Validate", &["false"]),
];

/// `sync-options "ServerSideApply=true" "PruneLast=true"`: each a known
/// option with one of its values, once.
fn sync_options(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    let at = r.name_span();
    let mut options: Vec<Spanned<String>> = Vec::new();
    let mut ok = true;
    for e in r.rest_args(0) {
        let Some(o) = reader::name(diags, e, "sync option", check_sync_option) else {
            ok = false;
            continue;
        };
        let key = |s: &str| s.split('=').next().unwrap_or("").to_string();
        if let Some(prev) = options.iter().find(|p| key(&p.value) == key(&o.value)) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("sync option `{}` is given twice", key(&o.value)))
                    .at(o.span, "again here")
                    .also(prev.span, "first here")
                    .help("keep one value for it"),
            );
            ok = false;
            continue;
        }
        options.push(o);
    }
    r.finish(diags);
    no_children(diags, node);
    if ok {
        g.sync_options = Some(Spanned::new(options.into_iter().map(|o| o.value).collect(), at));
    }
}

/// `NAME=VALUE`, one of [`SYNC_OPTIONS`].
fn check_sync_option(s: &str) -> Result<(), String> {
    let (key, value) = s.split_once('=').unwrap_or((s, ""));
    if key == "CreateNamespace" {
        return Err("svcc always sets `CreateNamespace=true`, and generates the Namespaces".into());
    }
    let known: Vec<&str> = SYNC_OPTIONS.iter().map(|(k, _)| *k).collect();
    let Some((_, values)) = SYNC_OPTIONS.iter().find(|(k, _)| *k == key) else {
        let hint = crate::diagnostic::suggest::did_you_mean(key, &known)
            .map(|m| format!("did you mean `{m}`? "))
            .unwrap_or_default();
        return Err(format!("{hint}known options: {}", known.join(", ")));
    };
    if !values.contains(&value) {
        let all: Vec<String> = values.iter().map(|v| format!("`{key}={v}`")).collect();
        return Err(format!("write {}", all.join(" or ")));
    }
    Ok(())
}

/// `cluster production "prod-eu"`.
fn cluster(node: &KdlNode, diags: &mut Diagnostics, g: &mut Gitops) {
    let mut r = NodeReader::new(node);
    let env = match r.arg(0) {
        Some(e) => reader::name(diags, e, "environment name", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "an environment", "write `cluster production \"prod-eu\"`"));
            None
        }
    };
    let name = match r.arg(1) {
        Some(e) => reader::name(diags, e, "cluster name", check_cluster),
        None => {
            if env.is_some() {
                diags.push(missing(r.name_span(), "a cluster name", "write `cluster production \"prod-eu\"`"));
            }
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    let (Some(environment), Some(name)) = (env, name) else { return };
    if let Some(prev) = g.clusters.get(&environment.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("environment `{}` has two clusters", environment.value))
                .at(environment.span, "named again here")
                .also(prev.environment.span, "first named here")
                .help("an environment deploys to one cluster: keep one `cluster` line for it"),
        );
        return;
    }
    g.clusters.insert(environment.value.clone(), Cluster { environment, name });
}

/// `application-set #false` (alone: on).
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

/// A node with one string argument, a `what` that must pass `check`
/// (SVC0208 otherwise); `example` is the node written out.
fn one(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    example: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::name(diags, e, what, check),
        None => {
            diags.push(missing(r.name_span(), &format!("the {what}"), format!("write `{example}`")));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// A duration longer than zero (Flux's `interval` and `timeout`).
fn positive(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<crate::model::Duration>> {
    let d = reader::duration(diags, e)?;
    if d.value.millis == 0 {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "a sync duration cannot be zero")
                .at(d.span, "zero")
                .help("write a duration such as \"5m\""),
        );
        return None;
    }
    Some(d)
}

/// Text that reaches the generated YAML as it is: no whitespace or
/// control characters, at most `max` characters.
fn plain(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > max {
        return Err(format!("must be 1 to {max} characters long"));
    }
    match s.chars().find(|c| c.is_whitespace() || c.is_control()) {
        Some(c) => Err(format!("{} is not allowed here", values::describe_char(c))),
        None => Ok(()),
    }
}

/// A git repository as Argo CD names it: `https://…`, `http://…`,
/// `ssh://…` or `git@host:path`, in the characters a URL may hold
/// (RFC 3986). No `{` or `}`: an ApplicationSet's template would read
/// them as Go template actions. Credentials in the URL are the secret
/// scanner's (`secrets.rs`), as everywhere.
fn check_repo_url(s: &str) -> Result<(), String> {
    plain(s, 2048)?;
    let url_char = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
    if let Some(c) = s.chars().find(|c| !url_char(*c)) {
        return Err(format!("{} is not allowed in a repository URL (percent-encode it)", values::describe_char(c)));
    }
    let scheme = ["https://", "http://", "ssh://"].iter().find_map(|p| s.strip_prefix(p));
    let host = match scheme {
        Some(rest) => rest.split(['/', '?', '#']).next().unwrap_or(""),
        None => match s.strip_prefix("git@") {
            Some(rest) => rest.split(':').next().filter(|_| rest.contains(':')).unwrap_or(""),
            None => return Err("expected `https://…`, `ssh://…` or `git@host:path`".into()),
        },
    };
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL needs a host".into());
    }
    Ok(())
}

/// A branch, tag or commit (`main`, `v1.2.0`, `HEAD`, a SHA) as git
/// allows a ref name (`git check-ref-format`), without `{` or `}` (Go
/// template actions in an ApplicationSet).
fn check_revision(s: &str) -> Result<(), String> {
    plain(s, 255)?;
    if let Some(c) = s.chars().find(|c| !c.is_ascii() || "~^:?*[\\{}".contains(*c)) {
        return Err(format!("{} is not allowed in a git revision", values::describe_char(c)));
    }
    let bad_part = |p: &str| p.is_empty() || p.starts_with('.') || p.ends_with(".lock");
    if s == "@" || s.contains("..") || s.ends_with('.') || s.starts_with('-') || s.split('/').any(bad_part) {
        return Err("not a git branch, tag or commit: write one such as `main`, `v1.2.0` or `HEAD`".into());
    }
    Ok(())
}

/// A folder of the repository: relative, `/`-separated, without `.` or
/// `..` parts.
fn check_path(s: &str) -> Result<(), String> {
    plain(s, 1024)?;
    if s.starts_with('/') || s.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
        return Err("write a path from the repository root, such as `deploy`, without `.` or `..` parts".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))) {
        return Err(format!("{} is not allowed in the path", values::describe_char(c)));
    }
    Ok(())
}

/// The ApplicationSet's name and the Kustomizations' prefix: with
/// `-ENVIRONMENT` appended it must still be a name.
fn check_name(s: &str) -> Result<(), String> {
    values::check_dns1123_label(s)?;
    if s.len() > 63 - 8 {
        return Err("must be at most 55 characters long, so that `-ENVIRONMENT` fits after it".into());
    }
    Ok(())
}

/// A cluster as the engine knows it: an Argo CD cluster name (EKS names
/// them by ARN) or the Secret holding a kubeconfig for Flux.
fn check_cluster(s: &str) -> Result<(), String> {
    plain(s, 253)?;
    match s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@'))) {
        Some(c) => Err(format!("{} is not allowed in a cluster name", values::describe_char(c))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_checks() {
        assert!(check_repo_url("https://github.com/acme/deploy.git").is_ok());
        assert!(check_repo_url("git@github.com:acme/deploy.git").is_ok());
        assert!(check_repo_url("ssh://git@github.com/acme/deploy.git").is_ok());
        assert!(check_repo_url("github.com/acme/deploy").is_err());
        assert!(check_repo_url("git@github.com").is_err());
        assert!(check_repo_url("https:// x").is_err());
        assert!(check_repo_url("https://ex.com/{{.path}}").is_err(), "a Go template action");
        assert!(check_repo_url("https://ex.com/a\"b").is_err());
        assert!(check_repo_url("https://user@ex.com/a.git").is_ok());
        assert!(check_repo_url("https://@/a").is_err());
        for ok in ["main", "HEAD", "v1.2.0", "release/2.x", "0123456789abcdef0123456789abcdef01234567"] {
            assert!(check_revision(ok).is_ok(), "{ok}");
        }
        for bad in ["{{.path}}", "a..b", "-main", "a/.b", "x.lock", "a b", "a~1", "main:x", "@", "a//b", "é"] {
            assert!(check_revision(bad).is_err(), "{bad}");
        }
        assert!(check_path("deploy").is_ok() && check_path("gitops/deploy").is_ok());
        for bad in ["/deploy", "deploy/", "../deploy", "a/./b", "", "a b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        assert!(check_cluster("arn:aws:eks:eu-west-1:123456789012:cluster/prod").is_ok());
        assert!(check_cluster("prod eu").is_err());
        assert!(check_name("svcc").is_ok() && check_name(&"a".repeat(56)).is_err());
        for ok in ["ServerSideApply=true", "PruneLast=true", "PrunePropagationPolicy=orphan", "Validate=false"] {
            assert!(check_sync_option(ok).is_ok(), "{ok}");
        }
        for bad in ["ServerSideApply", "PruneLast=false", "CreateNamespace=true", "ServerSideAply=true", "X=1", ""] {
            assert!(check_sync_option(bad).is_err(), "{bad}");
        }
    }
}
