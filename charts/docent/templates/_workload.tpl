{{/*
The objects every component has: ConfigMap (its DOCENT_<COMPONENT>_* settings), Deployment,
Service (+ a headless one for gRPC components, _headless.tpl), PodDisruptionBudget. Called from templates/<component>.yaml with
(dict "root" $ "name" "<component>").
*/}}

{{- define "docent.configmap" -}}
{{- $c := index .root.Values .name -}}
{{- $p := include "docent.prefix" .name -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
data:
  {{ $p }}HOST: "0.0.0.0"
  {{ $p }}PORT: {{ $c.port | quote }}
  {{ $p }}DATA_DIR: /var/lib/docent/{{ .name }}
  {{ $p }}LOG_LEVEL: {{ .root.Values.logLevel | quote }}
  {{- with .root.Values.otel.endpoint }}
  {{ $p }}OTLP_ENDPOINT: {{ . | quote }}
  {{- end }}
  {{- if ne .name "gateway" }}
  {{ $p }}METRICS_HOST: "0.0.0.0"
  {{ $p }}METRICS_PORT: {{ $c.metricsPort | quote }}
  {{ $p }}DRAIN_SECONDS: {{ .root.Values.drainSeconds | quote }}
  {{- else }}
  {{- $root := .root }}
  {{- range $dep := splitList " " (include "docent.grpcComponents" .) }}
  {{ $p }}{{ upper $dep }}_ADDRESS: {{ include "docent.grpcTarget" (dict "root" $root "name" $dep) | quote }}
  {{- end }}
  {{- if .root.Values.redis.urlFromSecret }}
  # Conversations, API keys and rate-limit budgets shared by every gateway replica; the URL
  # (with its password) comes from the Secret.
  {{ $p }}STORE: redis
  {{- else }}
  {{- with include "docent.redisUrl" .root }}
  # Conversations, API keys and rate-limit budgets shared by every gateway replica.
  {{ $p }}STORE: redis
  {{ $p }}REDIS_URL: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- end }}
  {{- if eq .name "ingestion" }}
  {{- $root := .root }}
  {{- range $dep := list "embedding" "retrieval" }}
  {{ $p }}{{ upper $dep }}_ADDRESS: {{ include "docent.grpcTarget" (dict "root" $root "name" $dep) | quote }}
  {{- end }}
  {{- if .root.Values.redis.urlFromSecret }}
  # Job records shared by every ingestion replica; the URL comes from the Secret.
  {{ $p }}JOB_STORE: redis
  {{- else }}
  {{- with include "docent.redisUrl" .root }}
  # Job records shared by every ingestion replica: any gateway replica answers for any job.
  {{ $p }}JOB_STORE: redis
  {{ $p }}REDIS_URL: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- end }}
  {{- if eq .name "retrieval" }}
  {{- $opensearch := include "docent.opensearchUrl" .root }}
  {{- if eq $c.store "opensearch" }}
  {{- if not $opensearch }}
  {{- fail "retrieval.store: opensearch needs opensearch.enabled or opensearch.externalUrl" }}
  {{- end }}
  # Everything in OpenSearch: replicas hold no state.
  {{ $p }}STORE: opensearch
  {{ $p }}OPENSEARCH_HOSTS: {{ $opensearch | quote }}
  {{- else if $opensearch }}
  # The embedded store keeps its docstore and vectors on its volume, BM25 in OpenSearch.
  {{ $p }}SPARSE_BACKEND: opensearch
  {{ $p }}OPENSEARCH_HOSTS: {{ $opensearch | quote }}
  {{- end }}
  {{- end }}
  {{- range $key, $value := $c.env }}
  {{ $p }}{{ $key }}: {{ $value | toString | quote }}
  {{- end }}
{{- end -}}

{{/* Non-empty for retrieval with the embedded store: one writer on one volume. */}}
{{- define "docent.retrievalOnVolume" -}}
{{- if and (eq .name "retrieval") (ne (index .root.Values .name).store "opensearch") }}true{{ end }}
{{- end -}}

{{- define "docent.grpcProbe" -}}
grpc:
  port: {{ .port }}
{{- end -}}

{{- define "docent.deployment" -}}
{{- $c := index .root.Values .name -}}
{{- $root := .root -}}
{{- $grpc := ne .name "gateway" -}}
{{- $models := has .name (list "embedding" "reranking" "generation") -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  {{- if not (and $c.autoscaling $c.autoscaling.enabled) }}
  replicas: {{ $c.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "docent.selectorLabels" . | nindent 6 }}
  strategy:
    {{- if include "docent.retrievalOnVolume" . }}
    type: Recreate
    {{- else }}
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
    {{- end }}
  template:
    metadata:
      labels:
        {{- include "docent.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include "docent.configmap" . | sha256sum }}
    spec:
      serviceAccountName: {{ include "docent.serviceAccountName" .root }}
      automountServiceAccountToken: false
      {{- with .root.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with .root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml .root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ add (int .root.Values.drainSeconds) 15 }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "docent.selectorLabels" . | nindent 14 }}
      containers:
        - name: {{ .name }}
          image: {{ include "docent.image" . }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml .root.Values.containerSecurityContext | nindent 12 }}
          envFrom:
            - configMapRef:
                name: {{ include "docent.componentName" . }}
          env:
            - name: DOCENT_HOME
              value: /var/lib/docent
            {{- if and (has .name (list "gateway" "ingestion")) .root.Values.redis.urlFromSecret }}
            - name: {{ include "docent.prefix" .name }}REDIS_URL
              valueFrom:
                secretKeyRef:
                  name: {{ include "docent.secretName" .root }}
                  key: redis-url
            {{- end }}
            {{- if and (eq .name "retrieval") (include "docent.opensearchUrl" .root) }}
            {{- range $setting, $key := dict "USERNAME" "opensearch-username" "PASSWORD" "opensearch-password" }}
            - name: DOCENT_RETRIEVAL_OPENSEARCH_{{ $setting }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "docent.secretName" $root }}
                  key: {{ $key }}
                  optional: true
            {{- end }}
            {{- end }}
            {{- if $models }}
            - name: HF_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "docent.secretName" .root }}
                  key: hf-token
                  optional: true
            {{- end }}
          ports:
            {{- if $grpc }}
            - {name: grpc, containerPort: {{ $c.port }}, protocol: TCP}
            - {name: metrics, containerPort: {{ $c.metricsPort }}, protocol: TCP}
            {{- else }}
            - {name: http, containerPort: {{ $c.port }}, protocol: TCP}
            {{- end }}
          {{- if $grpc }}
          {{- $alive := dict "tcpSocket" (dict "port" $c.port) }}
          {{- if ne (default "grpc" $c.liveness) "tcp" }}
          {{- $alive = dict "grpc" (dict "port" $c.port) }}
          {{- end }}
          # Model loading happens before SERVING: the startup probe holds liveness off meanwhile.
          startupProbe:
            {{- toYaml $alive | nindent 12 }}
            periodSeconds: {{ $c.startupProbe.periodSeconds }}
            failureThreshold: {{ $c.startupProbe.failureThreshold }}
          readinessProbe:
            {{- include "docent.grpcProbe" $c | nindent 12 }}
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          livenessProbe:
            {{- toYaml $alive | nindent 12 }}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 6
          {{- else }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: {{ $c.startupProbe.periodSeconds }}
            failureThreshold: {{ $c.startupProbe.failureThreshold }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 6
          {{- end }}
          resources:
            requests:
              {{- toYaml $c.resources.requests | nindent 14 }}
              {{- if gt (int $c.gpu) 0 }}
              nvidia.com/gpu: {{ $c.gpu }}
              {{- end }}
            limits:
              {{- toYaml $c.resources.limits | nindent 14 }}
              {{- if gt (int $c.gpu) 0 }}
              nvidia.com/gpu: {{ $c.gpu }}
              {{- end }}
          volumeMounts:
            - {name: data, mountPath: /var/lib/docent}
            - {name: tmp, mountPath: /tmp}
            {{- if gt (int $c.gpu) 0 }}
            # vLLM and NCCL exchange tensors through shared memory; the default 64 MiB is too small.
            - {name: shm, mountPath: /dev/shm}
            {{- end }}
            {{- if $models }}
            - name: models
              mountPath: /models
              readOnly: {{ ne .name "generation" }}
            {{- end }}
      volumes:
        - name: data
          {{- if and (include "docent.retrievalOnVolume" .) $c.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ default (include "docent.componentName" .) $c.persistence.existingClaim }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        - name: tmp
          emptyDir: {}
        {{- if gt (int $c.gpu) 0 }}
        - name: shm
          emptyDir: {medium: Memory, sizeLimit: 2Gi}
        {{- end }}
        {{- if $models }}
        - name: models
          {{- if .root.Values.models.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-models" (include "docent.fullname" .root)) .root.Values.models.persistence.existingClaim }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- end }}
{{- end -}}

{{- define "docent.service" -}}
{{- $c := index .root.Values .name -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "docent.selectorLabels" . | nindent 4 }}
  ports:
    {{- if eq .name "gateway" }}
    - {name: http, port: {{ $c.port }}, targetPort: http, protocol: TCP}
    {{- else }}
    - {name: grpc, port: {{ $c.port }}, targetPort: grpc, protocol: TCP, appProtocol: grpc}
    - {name: metrics, port: {{ $c.metricsPort }}, targetPort: metrics, protocol: TCP}
    {{- end }}
{{- end -}}

{{- define "docent.pdb" -}}
{{- $c := index .root.Values .name -}}
{{- if $c.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  # One pod at a time; pods that never became ready (e.g. reranking without a model) may go.
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "docent.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Everything one component owns, as one multi-document stream. */}}
{{- define "docent.component" -}}
{{- $c := index .root.Values .name -}}
{{- if $c.enabled }}
{{ include "docent.configmap" . }}
---
{{ include "docent.deployment" . }}
---
{{ include "docent.service" . }}
---
{{- if ne .name "gateway" }}
{{ include "docent.headlessService" . }}
---
{{- end }}
{{ include "docent.pdb" . }}
---
{{ include "docent.networkpolicy" . }}
---
{{ include "docent.servicemonitor" . }}
---
{{ include "docent.autoscaler" . }}
{{- end }}
{{- end -}}
