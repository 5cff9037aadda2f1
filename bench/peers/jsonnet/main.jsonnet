// N services like the ones bench/run.sh generates as KDL (backend-api-like,
// two environments each), written one object per file:
//
//   jrsonnet -c -m OUT -f yaml --tla-code n=10 bench/peers/jsonnet/main.jsonnet
local svc = import 'service.libsonnet';

// The org's defaults (svcc: services/_defaults.kdl).
local org = {
  labels: { 'example.com/org': 'acme' },
  nodeSelector: { 'kubernetes.io/arch': 'amd64' },
  prometheusLabels: { release: 'kube-prometheus-stack' },
};

local service(i) =
  local name = 'svc-%04d' % i;
  {
    name: name,
    use: [svc.presets['node-http-api']],
    image: 'ghcr.io/company/' + name,
    tag: '1.4.%d' % (i % 50),
    resources: {
      requests: { cpu: '200m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    },
    envFrom: [{ secret: name + '-secrets' }, { configMap: name + '-config' }],
    volumes: [{ name: 'logs', path: '/app/logs' }],
    security: { runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001 },
    autoscale: { min: 3, max: 20, cpu: 70, memory: 80 },
    patches: { Deployment: { spec+: { revisionHistoryLimit: 5 } } },
    environments: {
      staging: { replicas: 1, autoscale: false, env: { NODE_ENV: 'staging' } },
      production: {},
    },
  };

function(n) {
  [f.path]: f.object
  for i in std.range(1, n)
  for f in svc.files(org, service(i))
}
