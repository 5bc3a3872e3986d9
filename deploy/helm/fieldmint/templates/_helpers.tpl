{{/* Common labels of every object. */}}
{{- define "fieldmint.labels" -}}
app.kubernetes.io/name: fieldmint
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "fieldmint.release" . }}
{{- end }}

{{/* The release's labels besides name and instance. */}}
{{- define "fieldmint.release" -}}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Selector labels of one role: (dict "root" $ "role" "ingest"). */}}
{{- define "fieldmint.selector" -}}
app.kubernetes.io/name: fieldmint
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/* The pinned image: a digest when given, else the tag (default: appVersion). */}}
{{- define "fieldmint.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/*
The pod template of one role: (dict "root" $ "role" "validate" "args" (list ...)
"resources" ... "ports" (list (dict "name" "http" "port" 8080)) "poster" false;
optionally "volume" (dict "name" "mountPath" "claimName"), a claim mounted in the
role's container, and "after", a container run once the role's has succeeded).
Liveness is /healthz (the process serves; an outage of Kafka or ClickHouse must
not restart it), readiness /readyz (Kafka and ClickHouse reachable, consumer lag
under kafka.readyMaxLag, the chain's RPC answering), both on the metrics port.
*/}}
{{- define "fieldmint.pod" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "fieldmint.selector" . | nindent 4 }}
    {{- include "fieldmint.release" $root | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    fsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
  {{- if .spread }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "fieldmint.selector" . | nindent 10 }}
  {{- end }}
  terminationGracePeriodSeconds: 30
  {{- with .restartPolicy }}
  restartPolicy: {{ . }}
  {{- end }}
  {{- if .after }}
  initContainers:
  {{- else }}
  containers:
  {{- end }}
    - name: {{ .role }}
      image: {{ include "fieldmint.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      env:
        - name: FIELDMINT_CONFIG
          value: /etc/fieldmint/config/config.yaml
        - name: FIELDMINT_LOG_FORMAT
          value: json
        {{- if eq .role "validate" }}
        - name: FIELDMINT_VALIDATE_INSTANCEID
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        {{- end }}
      envFrom:
        - secretRef: {name: {{ $root.Values.secrets.env }}, optional: true}
        {{- if .poster }}
        - secretRef: {name: {{ $root.Values.secrets.posterPassword }}}
        {{- end }}
      ports:
        {{- range .ports }}
        - {name: {{ .name }}, containerPort: {{ .port }}, protocol: TCP}
        {{- end }}
        - {name: metrics, containerPort: 9464, protocol: TCP}
      {{- if not .job }}
      livenessProbe:
        httpGet: {path: /healthz, port: metrics}
        periodSeconds: 10
        failureThreshold: 6
      readinessProbe:
        httpGet: {path: /readyz, port: metrics}
        periodSeconds: 10
        failureThreshold: 3
      startupProbe:
        httpGet: {path: /healthz, port: metrics}
        periodSeconds: 2
        failureThreshold: 60
      {{- end }}
      resources:
        {{- toYaml .resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
      volumeMounts:
        - {name: config, mountPath: /etc/fieldmint/config, readOnly: true}
        - {name: kafka-ca, mountPath: /etc/fieldmint/kafka-ca, readOnly: true}
        {{- if .poster }}
        - {name: poster, mountPath: /etc/fieldmint/poster, readOnly: true}
        {{- end }}
        {{- with .volume }}
        - {name: {{ .name }}, mountPath: {{ .mountPath }}}
        {{- end }}
  {{- with .after }}
  {{- /* A container run once the role's (an init container) has succeeded. */}}
  containers:
    - {{- toYaml . | nindent 6 }}
  {{- end }}
  volumes:
    - name: config
      configMap: {name: {{ .configMap | default (printf "%s-config" $root.Release.Name) }}}
    - name: kafka-ca
      secret: {secretName: {{ $root.Values.secrets.kafkaCA }}, optional: true}
    {{- if .poster }}
    - name: poster
      secret: {secretName: {{ $root.Values.secrets.poster }}, defaultMode: 0400}
    {{- end }}
    {{- with .volume }}
    - name: {{ .name }}
      persistentVolumeClaim: {claimName: {{ .claimName }}}
    {{- end }}
{{- end }}
