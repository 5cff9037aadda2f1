// A service library as a team would write it in Jsonnet: one function that
// takes a service's settings (the same ones as an svcc service spec) and
// returns, per environment, the Kubernetes objects svcc writes for it, each
// as a file of its own (the layout of `svcc build -o`).
//
// Layers, lowest first, as in svcc (docs/presets.md): built-in defaults,
// org defaults, a preset, the service, an environment. Maps merge key by
// key, named lists (volumes) item by item, everything else is replaced.

local builtin = {
  port: { name: 'http', number: 8080, protocol: 'TCP' },
  resources: {},
  probes: {},
  env: {},
  envFrom: [],
  volumes: [],
  labels: {},
  nodeSelector: {},
  metrics: null,
  prometheusLabels: {},
  autoscale: null,
  replicas: null,
  security: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccomp: 'RuntimeDefault' },
  rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
  preStopSeconds: 5,
  graceSeconds: 30,
  disruption: { maxUnavailable: 1 },
  patches: {},
};

local probeDefaults = {
  startup: { period: 5, timeout: 5, failureThreshold: 30 },
  liveness: { period: 10, timeout: 5, failureThreshold: 3 },
  readiness: { period: 5, timeout: 3, failureThreshold: 3 },
};

// Merge two named lists item by item, keeping the first one's order.
local mergeNamed(a, b) =
  local names = std.set([x.name for x in b]);
  local byName = { [x.name]: x for x in b };
  [if std.member(names, x.name) then x + byName[x.name] else x for x in a]
  + [x for x in b if !std.member(std.set([y.name for y in a]), x.name)];

local namedLists = ['volumes'];

// One layer over another.
local layer(lower, upper) = lower + {
  [k]:
    if !std.objectHas(lower, k) then upper[k]
    else if std.member(namedLists, k) then mergeNamed(lower[k], upper[k])
    else if k == 'patches' then lower[k] + upper[k]
    else if std.isObject(upper[k]) && std.isObject(lower[k]) then std.mergePatch(lower[k], upper[k])
    else upper[k]
  for k in std.objectFields(upper)
  if k != 'environments'
};

{
  // Standard-library preset: a Node.js HTTP API.
  presets:: {
    'node-http-api': {
      port: { name: 'http', number: 3000 },
      resources: {
        requests: { cpu: '200m', memory: '256Mi' },
        limits: { memory: '512Mi' },
      },
      probes: {
        startup: { path: '/health', period: 5, failureThreshold: 30 },
        liveness: { path: '/health' },
        readiness: { path: '/health/ready' },
      },
      env: { NODE_ENV: 'production', PORT: '3000' },
      volumes: [{ name: 'tmp', path: '/tmp' }],
      metrics: { path: '/metrics' },
      autoscale: { min: 2, max: 10, cpu: 70 },
    },
  },

  // The plan of one environment: every layer merged.
  plan(org, spec, env)::
    local base = std.foldl(layer, [builtin, org] + [p for p in std.get(spec, 'use', [])], {});
    local s = layer(layer(base, spec), std.get(spec.environments, env, {}));
    s {
      environment: env,
      autoscale: if s.autoscale == false then null else s.autoscale,
    },

  // The objects of one environment, in svcc's order, as [kind, object].
  objects(p)::
    local name = p.name;
    local selector = {
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/name': name,
    };
    local labels = selector + {
      'app.kubernetes.io/managed-by': 'svcc',
      'app.kubernetes.io/version': p.tag,
    } + p.labels;
    local meta = { name: name, namespace: p.environment, labels: labels };
    local port = builtin.port + p.port;
    local probe(kind) =
      local pr = probeDefaults[kind] + p.probes[kind];
      {
        httpGet: { path: pr.path, port: port.name },
        periodSeconds: pr.period,
        timeoutSeconds: pr.timeout,
        failureThreshold: pr.failureThreshold,
      };
    local sec = p.security;
    local spread(key) = {
      labelSelector: { matchLabels: selector },
      maxSkew: 1,
      topologyKey: key,
      whenUnsatisfiable: 'ScheduleAnyway',
    };
    local replicas =
      if p.autoscale != null then null else p.replicas;
    local maxReplicas =
      if p.autoscale != null then p.autoscale.max
      else if replicas != null then replicas else 0;
    local patch(kind, obj) = if std.objectHas(p.patches, kind) then obj + p.patches[kind] else obj;
    local deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        [if replicas != null then 'replicas']: replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: p.rollingUpdate },
        template: {
          metadata: {
            labels: labels,
            [if p.metrics != null then 'annotations']: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': std.toString(port.number),
              'prometheus.io/path': p.metrics.path,
            },
          },
          spec: {
            automountServiceAccountToken: false,
            serviceAccountName: name,
            terminationGracePeriodSeconds: p.graceSeconds,
            nodeSelector: p.nodeSelector,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: sec.runAsUser,
              runAsGroup: sec.runAsGroup,
              fsGroup: sec.fsGroup,
              seccompProfile: { type: sec.seccomp },
            },
            topologySpreadConstraints: [
              spread('topology.kubernetes.io/zone'),
              spread('kubernetes.io/hostname'),
            ],
            containers: [{
              name: name,
              image: p.image + ':' + p.tag,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: port.name, containerPort: port.number, protocol: port.protocol }],
              env: [{ name: k, value: p.env[k] } for k in std.objectFields(p.env)],
              envFrom: [
                if std.objectHas(f, 'secret') then { secretRef: { name: f.secret } }
                else { configMapRef: { name: f.configMap } }
                for f in p.envFrom
              ],
              resources: p.resources,
              startupProbe: probe('startup'),
              livenessProbe: probe('liveness'),
              readinessProbe: probe('readiness'),
              lifecycle: { preStop: { sleep: { seconds: p.preStopSeconds } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [{ name: v.name, mountPath: v.path } for v in p.volumes],
            }],
            volumes: [{ name: v.name, emptyDir: {} } for v in p.volumes],
          },
        },
      },
    };
    local a = p.autoscale;
    local utilisation(resource) = {
      type: 'Resource',
      resource: { name: resource, target: { type: 'Utilization', averageUtilization: a[resource] } },
    };
    [
      ['ServiceAccount', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: meta,
        automountServiceAccountToken: false,
      }],
      ['Service', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta,
        spec: {
          type: 'ClusterIP',
          selector: selector,
          ports: [{ name: port.name, port: port.number, targetPort: port.name, protocol: port.protocol }],
        },
      }],
      ['Deployment', patch('Deployment', deployment)],
    ] + (
      if a == null then [] else [['HorizontalPodAutoscaler', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta,
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: name },
          minReplicas: a.min,
          maxReplicas: a.max,
          metrics: [utilisation(r) for r in ['cpu', 'memory'] if std.objectHas(a, r)],
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: 60,
              selectPolicy: 'Max',
              policies: [
                { type: 'Percent', value: 50, periodSeconds: 60 },
                { type: 'Pods', value: 2, periodSeconds: 60 },
              ],
            },
            scaleDown: {
              stabilizationWindowSeconds: 300,
              policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
            },
          },
        },
      }]]
    ) + (
      if maxReplicas <= 1 then [] else [['PodDisruptionBudget', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta,
        spec: p.disruption {
          selector: { matchLabels: selector },
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      }]]
    ) + (
      if p.metrics == null then [] else [['ServiceMonitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: meta { labels+: p.prometheusLabels },
        spec: {
          selector: { matchLabels: selector },
          namespaceSelector: { matchNames: [p.environment] },
          endpoints: [{ port: port.name, path: p.metrics.path }],
        },
      }]]
    ),

  // Every file of one service: [{path, object}], one object per file and a
  // kustomization.yaml per environment folder, like `svcc build -o`.
  files(org, spec)::
    std.flattenArrays([
      local p = $.plan(org, spec, env);
      local dir = spec.name + '/' + env + '/';
      local objs = $.objects(p);
      local file(o) = std.asciiLower(o[0]) + '-' + o[1].metadata.name + '.yaml';
      [{ path: dir + file(o), object: o[1] } for o in objs]
      + [{
        path: dir + 'kustomization.yaml',
        object: {
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          resources: [file(o) for o in objs],
        },
      }]
      for env in std.objectFields(spec.environments)
    ]),
}
