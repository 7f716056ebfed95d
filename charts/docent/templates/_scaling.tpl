{{/* NetworkPolicy, ServiceMonitor and autoscaler of one component. */}}

{{- define "docent.networkpolicy" -}}
{{- $c := index .root.Values .name -}}
{{- $root := .root -}}
{{- if .root.Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "docent.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    {{- if eq .name "gateway" }}
    # The only component reachable from outside the release.
    - ports:
        - {port: http, protocol: TCP}
      {{- with .root.Values.networkPolicy.gatewayFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- else }}
    - ports:
        - {port: grpc, protocol: TCP}
      from:
        {{- range $caller := index (fromYaml (include "docent.callers" .)) .name }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $root.Release.Name }}
              app.kubernetes.io/component: {{ $caller }}
        {{- end }}
    - ports:
        - {port: metrics, protocol: TCP}
      {{- with .root.Values.networkPolicy.metricsFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "docent.servicemonitor" -}}
{{- $m := .root.Values.monitoring.serviceMonitor -}}
{{- if $m.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
    {{- with $m.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "docent.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: {{ if eq .name "gateway" }}http{{ else }}metrics{{ end }}
      path: /metrics
      interval: {{ $m.interval }}
{{- end }}
{{- end -}}

{{- define "docent.autoscaler" -}}
{{- $c := index .root.Values .name -}}
{{- $a := .root.Values.autoscaling -}}
{{- if and $c.autoscaling $c.autoscaling.enabled }}
{{- if lt (int $c.autoscaling.maxReplicas) (int $c.autoscaling.minReplicas) }}
{{- fail (printf "%s.autoscaling.maxReplicas (%v) is below minReplicas (%v)" .name $c.autoscaling.maxReplicas $c.autoscaling.minReplicas) }}
{{- end }}
{{- if eq $a.engine "keda" }}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    name: {{ include "docent.componentName" . }}
  minReplicaCount: {{ $c.autoscaling.minReplicas }}
  maxReplicaCount: {{ $c.autoscaling.maxReplicas }}
  pollingInterval: {{ $a.pollingInterval }}
  cooldownPeriod: {{ $a.cooldownPeriod }}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: {{ $a.scaleDownStabilizationSeconds }}
  triggers:
    # Value: replicas grow with p95 / target (latency does not divide by the replica count).
    - type: prometheus
      name: p95-latency
      metricType: Value
      metadata:
        serverAddress: {{ $a.prometheus.serverAddress }}
        query: {{ include "docent.latencySeries" . | quote }}
        threshold: {{ $c.p95TargetSeconds | toString | quote }}
        ignoreNullValues: "true"
    {{- if eq .name "generation" }}
    # AverageValue: one replica per waitingPerReplica queued requests.
    - type: prometheus
      name: queue-depth
      metricType: AverageValue
      metadata:
        serverAddress: {{ $a.prometheus.serverAddress }}
        query: {{ include "docent.queueSeries" .root | quote }}
        threshold: {{ $c.autoscaling.waitingPerReplica | toString | quote }}
        ignoreNullValues: "true"
    {{- end }}
{{- else }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "docent.componentName" . }}
  minReplicas: {{ $c.autoscaling.minReplicas }}
  maxReplicas: {{ $c.autoscaling.maxReplicas }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: {{ $a.scaleDownStabilizationSeconds }}
  # External metrics served by prometheus-adapter from the recording rules
  # (k8s/prometheus-adapter/rules.yaml).
  metrics:
    - type: External
      external:
        metric:
          name: {{ if eq .name "generation" }}docent_generation_ttft_p95_seconds{{ else }}docent_request_latency_p95_seconds{{ end }}
          selector:
            matchLabels:
              component: {{ .name }}
        target:
          type: Value
          value: {{ $c.p95TargetSeconds | toString | quote }}
    {{- if eq .name "generation" }}
    - type: External
      external:
        metric:
          name: docent_generation_requests_waiting
          selector:
            matchLabels:
              component: generation
        target:
          type: AverageValue
          averageValue: {{ $c.autoscaling.waitingPerReplica | toString | quote }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}
