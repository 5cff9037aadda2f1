{{- define "svc.metadata" -}}
metadata:
  name: {{ .name }}
  namespace: {{ .environment }}
  labels:
    {{- toYaml .allLabels | nindent 4 }}
{{- end }}

{{- define "svc.serviceaccount" }}
---
apiVersion: v1
kind: ServiceAccount
{{ include "svc.metadata" . }}
automountServiceAccountToken: false
{{- end }}

{{- define "svc.service" }}
---
apiVersion: v1
kind: Service
{{ include "svc.metadata" . }}
spec:
  type: ClusterIP
  selector:
    {{- toYaml .selector | nindent 4 }}
  ports:
  - name: {{ .port.name }}
    port: {{ .port.number }}
    targetPort: {{ .port.name }}
    protocol: {{ .port.protocol }}
{{- end }}

{{- define "svc.probe" }}
{{- $pr := mergeOverwrite (deepCopy (get .p.probeDefaults .kind)) (get .p.probes .kind) }}
httpGet:
  path: {{ $pr.path }}
  port: {{ .p.port.name }}
periodSeconds: {{ $pr.period }}
timeoutSeconds: {{ $pr.timeout }}
failureThreshold: {{ $pr.failureThreshold }}
{{- end }}

{{- define "svc.spread" }}
- labelSelector:
    matchLabels:
      {{- toYaml .p.selector | nindent 6 }}
  maxSkew: 1
  topologyKey: {{ .key }}
  whenUnsatisfiable: ScheduleAnyway
{{- end }}

{{- define "svc.deployment" }}
---
apiVersion: apps/v1
kind: Deployment
{{ include "svc.metadata" . }}
spec:
  {{- if and (not .autoscale) .replicas }}
  replicas: {{ .replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml .selector | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {{ .rollingUpdate.maxSurge }}
      maxUnavailable: {{ .rollingUpdate.maxUnavailable }}
  template:
    metadata:
      labels:
        {{- toYaml .allLabels | nindent 8 }}
      {{- with .metrics }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $.port.number | quote }}
        prometheus.io/path: {{ .path }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      serviceAccountName: {{ .name }}
      terminationGracePeriodSeconds: {{ .graceSeconds }}
      {{- with .nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .security.runAsUser }}
        runAsGroup: {{ .security.runAsGroup }}
        fsGroup: {{ .security.fsGroup }}
        seccompProfile:
          type: {{ .security.seccomp }}
      topologySpreadConstraints:
      {{- include "svc.spread" (dict "p" . "key" "topology.kubernetes.io/zone") | indent 6 }}
      {{- include "svc.spread" (dict "p" . "key" "kubernetes.io/hostname") | indent 6 }}
      containers:
      - name: {{ .name }}
        image: {{ .image }}:{{ .tag }}
        imagePullPolicy: IfNotPresent
        ports:
        - name: {{ .port.name }}
          containerPort: {{ .port.number }}
          protocol: {{ .port.protocol }}
        {{- with .env }}
        env:
        {{- range $k, $v := . }}
        - name: {{ $k }}
          value: {{ $v | quote }}
        {{- end }}
        {{- end }}
        {{- with .envFrom }}
        envFrom:
        {{- range . }}
        {{- if .secret }}
        - secretRef:
            name: {{ .secret }}
        {{- else }}
        - configMapRef:
            name: {{ .configMap }}
        {{- end }}
        {{- end }}
        {{- end }}
        resources:
          {{- toYaml .resources | nindent 10 }}
        {{- range $kind := list "startup" "liveness" "readiness" }}
        {{- if hasKey $.probes $kind }}
        {{ $kind }}Probe:
          {{- include "svc.probe" (dict "p" $ "kind" $kind) | indent 10 }}
        {{- end }}
        {{- end }}
        lifecycle:
          preStop:
            sleep:
              seconds: {{ .preStopSeconds }}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          capabilities:
            drop:
            - ALL
        terminationMessagePolicy: FallbackToLogsOnError
        volumeMounts:
        {{- range .volumes }}
        - name: {{ .name }}
          mountPath: {{ .path }}
        {{- end }}
      volumes:
      {{- range .volumes }}
      - name: {{ .name }}
        emptyDir: {}
      {{- end }}
  {{- with .deploymentSpec }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{- define "svc.hpa" }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
{{ include "svc.metadata" . }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ .autoscale.min }}
  maxReplicas: {{ .autoscale.max }}
  metrics:
  {{- range $r := list "cpu" "memory" }}
  {{- if hasKey $.autoscale $r }}
  - type: Resource
    resource:
      name: {{ $r }}
      target:
        type: Utilization
        averageUtilization: {{ get $.autoscale $r }}
  {{- end }}
  {{- end }}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 60
      selectPolicy: Max
      policies:
      - type: Percent
        value: 50
        periodSeconds: 60
      - type: Pods
        value: 2
        periodSeconds: 60
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
      - type: Percent
        value: 10
        periodSeconds: 60
{{- end }}

{{- define "svc.pdb" }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
{{ include "svc.metadata" . }}
spec:
  {{- toYaml .disruption | nindent 2 }}
  selector:
    matchLabels:
      {{- toYaml .selector | nindent 6 }}
  unhealthyPodEvictionPolicy: AlwaysAllow
{{- end }}

{{- define "svc.servicemonitor" }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .name }}
  namespace: {{ .environment }}
  labels:
    {{- toYaml (merge (dict) .allLabels .prometheusLabels) | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- toYaml .selector | nindent 6 }}
  namespaceSelector:
    matchNames:
    - {{ .environment }}
  endpoints:
  - port: {{ .port.name }}
    path: {{ .metrics.path }}
{{- end }}
