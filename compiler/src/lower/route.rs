//! `route`: the service's public entry. A Gateway route (HTTPRoute, or a
//! GRPCRoute for a gRPC port) attached to the named Gateway, or an Ingress
//! of the named class; both reach the main Service on the port the route
//! names. `tls issuer=` adds a cert-manager Certificate for the hosts,
//! into the Secret the Ingress (or the Gateway's listener) serves.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};

use super::{Kind, Object, meta, object};
use crate::check::route::GATEWAY_GROUP;
use crate::crd::{
    BackendRef, Certificate, CertificateSpec, GrpcRoute, GrpcRouteRule, GrpcRouteSpec, HttpPathMatch, HttpRoute,
    HttpRouteMatch, HttpRouteRule, HttpRouteSpec, IssuerRef, ParentRef,
};
use crate::plan::{Plan, PlanEntry, PlanRoute, PlanRouter, PlanStrategy};

/// The route's objects: the route or Ingress, then its Certificate.
pub(super) fn lower(p: &Plan) -> Vec<Object> {
    let Some(r) = &p.route else { return Vec::new() };
    let spans = BTreeMap::from([("/spec".to_string(), r.span)]);
    let mut out = vec![match &r.entry {
        PlanEntry::Ingress { class } => object(&r.service, p, &ingress(p, r, class), spans.clone()),
        PlanEntry::Gateway { .. } if r.grpc => object(&p.service, p, &grpc_route(p, r), spans.clone()),
        PlanEntry::Gateway { .. } => object(&p.service, p, &http_route(p, r), spans.clone()),
    }];
    if let Some(cert) = certificate(p, r) {
        out.push(object(&p.service, p, &cert, spans));
    }
    out
}

fn ingress(p: &Plan, r: &PlanRoute, class: &str) -> Ingress {
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: r.service.clone(),
            port: Some(ServiceBackendPort { number: Some(i32::from(r.service_port)), name: None }),
        }),
        resource: None,
    };
    let paths: Vec<HTTPIngressPath> = r
        .paths
        .iter()
        .map(|(path, exact)| HTTPIngressPath {
            path: Some(path.clone()),
            path_type: (if *exact { "Exact" } else { "Prefix" }).to_string(),
            backend: backend.clone(),
        })
        .collect();
    Ingress {
        metadata: meta(p, &r.service),
        spec: Some(IngressSpec {
            ingress_class_name: Some(class.to_string()),
            rules: Some(
                r.hosts
                    .iter()
                    .map(|h| IngressRule {
                        host: Some(h.clone()),
                        http: Some(HTTPIngressRuleValue { paths: paths.clone() }),
                    })
                    .collect(),
            ),
            tls: r
                .tls
                .as_ref()
                .map(|t| vec![IngressTLS { hosts: Some(r.hosts.clone()), secret_name: Some(t.secret.clone()) }]),
            default_backend: None,
        }),
        status: None,
    }
}

fn parent(r: &PlanRoute) -> Vec<ParentRef> {
    let PlanEntry::Gateway { name, namespace, section } = &r.entry else { return Vec::new() };
    vec![ParentRef {
        group: GATEWAY_GROUP.to_string(),
        kind: "Gateway".to_string(),
        name: name.clone(),
        namespace: namespace.clone(),
        section_name: section.clone(),
    }]
}

/// The route's backends: the main Service, and the canary Service when a
/// canary shifts the route's traffic (the Gateway API plugin sets both
/// weights during an update; no weight is written, so a GitOps engine does
/// not undo the plugin's, and between updates both Services select the
/// stable pods).
fn backends(p: &Plan, r: &PlanRoute) -> Vec<BackendRef> {
    let to = |name: &str| BackendRef {
        group: String::new(),
        kind: "Service".to_string(),
        name: name.to_string(),
        port: i32::from(r.service_port),
        weight: None,
    };
    let mut out = vec![to(&r.service)];
    if let Some(canary) = gateway_canary(p) {
        out.push(to(canary));
    }
    out
}

/// The canary Service, when a canary splits traffic through the Gateway
/// API plugin.
fn gateway_canary(p: &Plan) -> Option<&str> {
    match &p.delivery.as_ref()?.strategy {
        PlanStrategy::Canary { router: Some(PlanRouter::GatewayApi), canary_service, .. } => canary_service.as_deref(),
        _ => None,
    }
}

fn http_route(p: &Plan, r: &PlanRoute) -> HttpRoute {
    HttpRoute {
        api_version: Kind::HTTPRoute.api_version().to_string(),
        kind: Kind::HTTPRoute.as_str().to_string(),
        metadata: meta(p, &p.service),
        spec: HttpRouteSpec {
            parent_refs: parent(r),
            hostnames: r.hosts.clone(),
            rules: vec![HttpRouteRule {
                matches: r
                    .paths
                    .iter()
                    .map(|(path, exact)| HttpRouteMatch {
                        path: HttpPathMatch {
                            type_: (if *exact { "Exact" } else { "PathPrefix" }).to_string(),
                            value: path.clone(),
                        },
                    })
                    .collect(),
                backend_refs: backends(p, r),
            }],
        },
    }
}

fn grpc_route(p: &Plan, r: &PlanRoute) -> GrpcRoute {
    GrpcRoute {
        api_version: Kind::GRPCRoute.api_version().to_string(),
        kind: Kind::GRPCRoute.as_str().to_string(),
        metadata: meta(p, &p.service),
        spec: GrpcRouteSpec {
            parent_refs: parent(r),
            hostnames: r.hosts.clone(),
            rules: vec![GrpcRouteRule { backend_refs: backends(p, r) }],
        },
    }
}

fn certificate(p: &Plan, r: &PlanRoute) -> Option<Certificate> {
    let tls = r.tls.as_ref()?;
    let (issuer, kind) = tls.issuer.as_ref()?;
    Some(Certificate {
        api_version: Kind::Certificate.api_version().to_string(),
        kind: Kind::Certificate.as_str().to_string(),
        metadata: meta(p, &p.service),
        spec: CertificateSpec {
            secret_name: tls.secret.clone(),
            dns_names: r.hosts.clone(),
            issuer_ref: IssuerRef { group: "cert-manager.io".to_string(), kind: kind.clone(), name: issuer.clone() },
        },
    })
}
