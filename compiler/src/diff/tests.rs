//! Unit tests of the file and object comparisons.

use super::*;
use serde_json::json;

fn m(path: &str, v: Value) -> Manifest {
    Manifest { path: path.to_string(), value: v }
}

fn deployment(selector: &str, replicas: Option<u32>) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "api", "namespace": "prod" },
        "spec": { "selector": { "matchLabels": { "app": selector } }, "template": { "spec": { "containers": [
            { "name": "api", "image": "x:1", "ports": [{ "name": "http", "containerPort": 80 }] }
        ] } } }
    });
    if let Some(r) = replicas {
        d["spec"]["replicas"] = json!(r);
    }
    d
}

fn service(ports: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "api", "namespace": "prod" },
            "spec": { "type": "ClusterIP", "selector": { "app": "api" }, "ports": ports } })
}

fn hpa() -> Value {
    json!({ "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": { "name": "api", "namespace": "prod" },
            "spec": { "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "api" }, "maxReplicas": 5 } })
}

fn kinds(r: &Report) -> Vec<BreakingKind> {
    r.objects.iter().flat_map(|o| o.breaking.iter().map(|b| b.kind)).collect()
}

#[test]
fn identical_objects_have_no_diff() {
    let a = [m("a/d.yaml", deployment("api", Some(2)))];
    assert!(objects(&a, &a).is_empty());
}

#[test]
fn field_changes_are_json_pointers_and_named_lists_match_by_name() {
    let old = json!({ "spec": { "ports": [{ "name": "a", "port": 1 }, { "name": "b", "port": 2 }] } });
    let new = json!({ "spec": { "ports": [{ "name": "z", "port": 9 }, { "name": "a", "port": 1 }, { "name": "b", "port": 3 }] } });
    let f = fields(&old, &new);
    let ptrs: Vec<&str> = f.iter().map(|c| c.pointer.as_str()).collect();
    assert_eq!(ptrs, ["/spec/ports/0", "/spec/ports/2/port"]);
    assert_eq!(f[1].old, Some(json!(2)));
    let f = fields(&json!({ "a/b": 1 }), &json!({ "a/b": 2 }));
    assert_eq!(f[0].pointer, "/a~1b");
}

#[test]
fn a_new_order_is_a_change_where_order_means_something() {
    let pod = |init: [&str; 2], env: [&str; 2], volumes: [&str; 2]| {
        json!({ "spec": {
            "initContainers": [{ "name": init[0], "image": "x:1" }, { "name": init[1], "image": "x:1" }],
            "containers": [{ "name": "app", "env": [{ "name": env[0], "value": env[0] }, { "name": env[1], "value": env[1] }] }],
            "volumes": [{ "name": volumes[0], "emptyDir": {} }, { "name": volumes[1], "emptyDir": {} }] } })
    };
    let old = pod(["migrate", "seed"], ["A", "B"], ["tmp", "cache"]);
    let f = fields(&old, &pod(["seed", "migrate"], ["B", "A"], ["cache", "tmp"]));
    let ptrs: Vec<&str> = f.iter().map(|c| c.pointer.as_str()).collect();
    // Init containers start in order, a `$(A)` needs A first; volumes are
    // looked up by name, so their order is no change.
    assert_eq!(ptrs, ["/spec/containers/0/env", "/spec/initContainers"]);
    assert_eq!(f[1].old, Some(json!(["migrate", "seed"])));
    assert_eq!(f[1].new, Some(json!(["seed", "migrate"])));
    // A name added or removed alone is not a new order.
    let f = fields(&old, &pod(["migrate", "late"], ["A", "B"], ["tmp", "cache"]));
    assert!(!f.is_empty() && f.iter().all(|c| c.pointer == "/spec/initContainers/1"), "{f:?}");
}

#[test]
fn selector_change_is_breaking() {
    let r = objects(&[m("d.yaml", deployment("api", Some(2)))], &[m("d.yaml", deployment("api-v2", Some(2)))]);
    assert_eq!(kinds(&r), [BreakingKind::ImmutableField]);
    assert_eq!(r.objects[0].fields[0].pointer, "/spec/selector/matchLabels/app");
    assert!(r.to_text().contains("! breaking [immutable-field] /spec/selector"), "{}", r.to_text());
}

#[test]
fn image_change_is_not_breaking() {
    let mut new = deployment("api", Some(2));
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x:2");
    let r = objects(&[m("d.yaml", deployment("api", Some(2)))], &[m("d.yaml", new)]);
    assert_eq!(r.objects.len(), 1);
    assert_eq!(r.breaking_count(), 0);
    assert_eq!(r.objects[0].fields[0].pointer, "/spec/template/spec/containers/0/image");
}

#[test]
fn rename_is_delete_plus_create() {
    let mut new = deployment("api", Some(2));
    new["metadata"]["name"] = json!("api2");
    let r = objects(&[m("p/d.yaml", deployment("api", Some(2)))], &[m("p/d2.yaml", new)]);
    assert_eq!(r.objects.len(), 2);
    assert_eq!(kinds(&r), [BreakingKind::Rename]);
    let removed = r.objects.iter().find(|o| o.status == ObjectStatus::Removed).unwrap();
    assert!(removed.breaking[0].reason.contains("Deployment/prod/api2"));
}

#[test]
fn removed_object_is_breaking_and_added_is_not() {
    let r = objects(&[m("p/s.yaml", service(json!([])))], &[]);
    assert_eq!(kinds(&r), [BreakingKind::Removed]);
    let r = objects(&[], &[m("p/s.yaml", service(json!([])))]);
    assert_eq!(r.objects[0].status, ObjectStatus::Added);
    assert_eq!(r.breaking_count(), 0);
}

#[test]
fn removed_service_port_names_its_users() {
    let old_svc =
        service(json!([{ "name": "http", "port": 80, "targetPort": "http" }, { "name": "metrics", "port": 9090 }]));
    let new_svc = service(json!([{ "name": "http", "port": 80, "targetPort": "http" }]));
    let monitor = json!({ "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": { "name": "api" }, "spec": { "endpoints": [{ "port": "metrics" }] } });
    let old = [m("s.yaml", old_svc), m("m.yaml", monitor.clone())];
    let new = [m("s.yaml", new_svc), m("m.yaml", monitor)];
    let r = objects(&old, &new);
    assert_eq!(kinds(&r), [BreakingKind::RemovedPort]);
    assert!(r.objects[0].breaking[0].reason.contains("ServiceMonitor/api"), "{:?}", r.objects[0].breaking);
}

#[test]
fn removed_port_names_only_the_same_services_objects() {
    let probe = |name: &str| {
        json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": name },
            "spec": { "template": { "spec": { "containers": [{ "name": name,
                "readinessProbe": { "httpGet": { "path": "/", "port": "http" } } }] } } } })
    };
    let svc = |name: &str, port: &str| {
        json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": name },
            "spec": { "ports": [{ "name": port, "port": 80, "targetPort": port }] } })
    };
    let old = [
        m("api/prod/service-api.yaml", svc("api", "http")),
        m("api/prod/deployment-api.yaml", probe("api")),
        m("web/prod/service-web.yaml", svc("web", "http")),
        m("web/prod/deployment-web.yaml", probe("web")),
    ];
    let mut new = old.clone();
    new[0] = m("api/prod/service-api.yaml", svc("api", "web"));
    let r = objects(&old, &new);
    let reason = &r.objects.iter().find(|o| o.object.name == "api").unwrap().breaking[0].reason;
    assert!(reason.contains("still referenced by Deployment/api"), "{reason}");
    assert!(!reason.contains("Deployment/web"), "{reason}");
}

#[test]
fn service_type_and_api_version_changes_are_breaking() {
    let mut new = service(json!([]));
    new["spec"]["type"] = json!("NodePort");
    new["apiVersion"] = json!("v2");
    let r = objects(&[m("s.yaml", service(json!([])))], &[m("s.yaml", new)]);
    assert_eq!(kinds(&r), [BreakingKind::ApiVersionChange, BreakingKind::ImmutableField]);
}

#[test]
fn replicas_moving_to_an_autoscaler_is_breaking() {
    let old = [m("d.yaml", deployment("api", Some(3)))];
    let new = [m("d.yaml", deployment("api", None)), m("h.yaml", hpa())];
    let r = objects(&old, &new);
    assert_eq!(kinds(&r), [BreakingKind::ReplicasOwnership]);
    let r = objects(&new, &old);
    assert!(kinds(&r).contains(&BreakingKind::ReplicasOwnership), "{:?}", kinds(&r));
}

#[test]
fn file_changes_cover_owned_folders_only() {
    let artifacts = vec![
        Artifact { path: "a/prod/x.yaml".into(), contents: "x: 1\n".into() },
        Artifact { path: "a/prod/y.yaml".into(), contents: "y: 1\n".into() },
    ];
    let mut existing = BTreeMap::new();
    existing.insert("a/prod/x.yaml".to_string(), "x: 2\n".to_string());
    existing.insert("a/prod/old.yaml".to_string(), "o: 1\n".to_string());
    existing.insert("b/prod/z.yaml".to_string(), "z: 1\n".to_string());
    let changes = files(&artifacts, &existing);
    let c: Vec<(FileStatus, &str)> = changes.iter().map(|c| (c.status, c.path.as_str())).collect();
    assert_eq!(
        c,
        [
            (FileStatus::Removed, "a/prod/old.yaml"),
            (FileStatus::Changed, "a/prod/x.yaml"),
            (FileStatus::Added, "a/prod/y.yaml")
        ]
    );
}

#[test]
fn kustomize_files_are_not_objects_but_flux_kustomizations_are() {
    let root = json!({ "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": [] });
    assert!(m("a/b/kustomization.yaml", root).key().is_none());
    let flux = json!({ "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": { "name": "production", "namespace": "flux-system" } });
    let key = m("_flux/kustomization-production.yaml", flux).key().unwrap();
    assert_eq!(key.to_string(), "Kustomization/flux-system/production");
}

#[test]
fn folders_that_span_services_are_owned_whole() {
    assert_eq!(owning_folder("api/prod/deployment-api.yaml"), "api/prod");
    assert_eq!(owning_folder("api/pipeline/.github/workflows/api.yml"), "api/pipeline");
    assert_eq!(owning_folder("_env.prod/kustomization.yaml"), "_env.prod");
    assert_eq!(owning_folder("_env.prod/extra/policy.yaml"), "_env.prod");
    assert_eq!(owning_folder("_argocd/applicationset-svcc.yaml"), "_argocd");
}

#[test]
fn committed_escape_sequences_are_shown_not_obeyed() {
    let mut new = deployment("api", Some(2));
    new["metadata"]["annotations"] = json!({ "x\u{1b}]0;t\u{7}": "\u{9b}31m" });
    let text = objects(&[m("d\u{1b}[2J.yaml", deployment("api", Some(2)))], &[m("d\u{1b}[2J.yaml", new)]).to_text();
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    assert!(text.contains("\\u{1b}"), "{text}");
}
