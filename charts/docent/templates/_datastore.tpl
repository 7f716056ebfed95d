{{/*
A single-node datastore (Redis or OpenSearch) deployed in the release when <name>.enabled:
StatefulSet, headless Service and a NetworkPolicy that admits only its Docent callers.
Arguments: root, name, port, callers, container (the container's image-specific part), uid.
*/}}
{{- define "docent.datastore" -}}
{{- $d := index .root.Values .name -}}
{{- $root := .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "docent.selectorLabels" . | nindent 4 }}
  ports:
    - {name: {{ .name }}, port: {{ .port }}, targetPort: {{ .port }}, protocol: TCP}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "docent.componentName" . }}
  labels:
    {{- include "docent.labels" . | nindent 4 }}
spec:
  serviceName: {{ include "docent.componentName" . }}
  replicas: 1
  selector:
    matchLabels:
      {{- include "docent.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "docent.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "docent.serviceAccountName" .root }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .uid }}
        runAsGroup: {{ .uid }}
        fsGroup: {{ .uid }}
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: {{ .name }}
          image: {{ $d.image }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          ports:
            - {name: {{ .name }}, containerPort: {{ .port }}, protocol: TCP}
          {{- .container | nindent 10 }}
          resources:
            {{- toYaml $d.resources | nindent 12 }}
          volumeMounts:
            - {name: data, mountPath: {{ .dataPath }}}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: {{ $d.storage }}
---
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
    - ports:
        - {port: {{ .port }}, protocol: TCP}
      from:
        {{- range $caller := .callers }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $root.Release.Name }}
              app.kubernetes.io/component: {{ $caller }}
        {{- end }}
{{- end -}}
