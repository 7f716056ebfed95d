{{/* Names, labels and small values shared by every template. */}}

{{- define "docent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The gRPC services, in port order; the gateway is the last component. */}}
{{- define "docent.grpcComponents" -}}
embedding retrieval reranking moderation generation ingestion
{{- end -}}

{{/* Who calls each service: the NetworkPolicies allow only these (ingest = bulk ingestion Jobs). */}}
{{- define "docent.callers" -}}
embedding: [gateway, ingestion, ingest]
retrieval: [gateway, ingestion, ingest]
reranking: [gateway]
moderation: [gateway]
generation: [gateway]
ingestion: [gateway, ingest]
{{- end -}}

{{- define "docent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: docent
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "docent.selectorLabels" . }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "docent.selectorLabels" -}}
app.kubernetes.io/name: docent
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "docent.componentName" -}}
{{ include "docent.fullname" .root }}-{{ .name }}
{{- end -}}

{{- define "docent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "docent.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "docent.secretName" -}}
{{ default (include "docent.fullname" .) .Values.secrets.existingSecret }}
{{- end -}}

{{- define "docent.image" -}}
{{- $c := index .root.Values .name -}}
{{- $tag := default (default .root.Chart.AppVersion .root.Values.image.tag) $c.image.tag -}}
{{- $repo := $c.image.repository -}}
{{- if .root.Values.image.registry -}}
{{- $repo = printf "%s/%s" .root.Values.image.registry $repo -}}
{{- end -}}
{{- if hasPrefix "sha256:" $tag -}}
{{ $repo }}@{{ $tag }}
{{- else -}}
{{ $repo }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{/* The env prefix of a component: DOCENT_EMBEDDING_ ... (ingestion kept DOCENT_INGEST_). */}}
{{- define "docent.prefix" -}}
DOCENT_{{ upper (eq . "ingestion" | ternary "ingest" .) }}_
{{- end -}}

{{/* Redis and OpenSearch URLs: the in-release StatefulSet or the external endpoint. */}}
{{- define "docent.redisUrl" -}}
{{- if .Values.redis.enabled -}}
redis://{{ include "docent.fullname" . }}-redis:6379/0
{{- else -}}
{{ .Values.redis.externalUrl }}
{{- end -}}
{{- end -}}

{{- define "docent.opensearchUrl" -}}
{{- if .Values.opensearch.enabled -}}
http://{{ include "docent.fullname" . }}-opensearch:9200
{{- else -}}
{{ .Values.opensearch.externalUrl }}
{{- end -}}
{{- end -}}

{{/* PromQL label matcher that keeps a release's rules to its own namespace. */}}
{{- define "docent.ns" -}}
namespace="{{ .Release.Namespace }}"
{{- end -}}

{{/* The series each component's autoscaler reads (a recording rule in prometheusrule.yaml). */}}
{{- define "docent.latencySeries" -}}
{{- if eq .name "generation" -}}
docent:generation_ttft_seconds:p95{ {{- include "docent.ns" .root }},component="generation"}
{{- else -}}
docent:request_latency_seconds:p95{ {{- include "docent.ns" .root }},component="{{ .name }}"}
{{- end -}}
{{- end -}}

{{- define "docent.queueSeries" -}}
docent:generation_requests_waiting:sum{ {{- include "docent.ns" . }},component="generation"}
{{- end -}}
