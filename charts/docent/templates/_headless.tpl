{{/*
Headless Service of a gRPC component: no cluster IP, so DNS answers with one A record per ready
pod and each client balances its calls over all of them (round-robin in its channel) instead
of pinning one long-lived HTTP/2 connection to whichever pod a ClusterIP picked. Only the gRPC
port: metrics are scraped through the ClusterIP Service. Called with
(dict "root" $ "name" "<component>").
*/}}

{{- define "docent.headlessName" -}}
{{ include "docent.componentName" . }}-headless
{{- end -}}

{{/* The gRPC target clients use: dns:///<name>-headless.<namespace>.svc.<clusterDomain>:<port>. */}}
{{- define "docent.grpcTarget" -}}
{{- $c := index .root.Values .name -}}
dns:///{{ include "docent.headlessName" . }}.{{ .root.Release.Namespace }}.svc.{{ .root.Values.clusterDomain }}:{{ $c.port }}
{{- end -}}

{{- define "docent.headlessService" -}}
{{- $c := index .root.Values .name -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "docent.headlessName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  clusterIP: None
  # Only pods that pass readiness are in DNS: a loading or draining pod gets no new calls.
  publishNotReadyAddresses: false
  selector:
    {{- include "docent.selectorLabels" . | nindent 4 }}
  ports:
    - {name: grpc, port: {{ $c.port }}, targetPort: grpc, protocol: TCP, appProtocol: grpc}
{{- end -}}
