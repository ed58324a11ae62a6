{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "shadowqa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource-name prefix: "<release>-<chart>", or the release name alone when it already contains the chart name. */}}
{{- define "shadowqa.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of a component's objects; call with (dict "root" $ "component" "router"). */}}
{{- define "shadowqa.componentName" -}}
{{- printf "%s-%s" (include "shadowqa.fullname" .root | trunc 52 | trimSuffix "-") .component }}
{{- end }}

{{- define "shadowqa.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "shadowqa.labels" -}}
helm.sh/chart: {{ include "shadowqa.chart" . }}
{{ include "shadowqa.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shadowqa
{{- end }}

{{/* Labels shared by every selector of the release; the ServiceMonitor selects Services by these alone. */}}
{{- define "shadowqa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shadowqa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component's objects; call with (dict "root" $ "component" "router"). */}}
{{- define "shadowqa.componentLabels" -}}
{{ include "shadowqa.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector of one component's pods; call with (dict "root" $ "component" "router"). */}}
{{- define "shadowqa.componentSelectorLabels" -}}
{{ include "shadowqa.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "shadowqa.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding the database URL and the admin token: the existing one, or the chart's. */}}
{{- define "shadowqa.secretName" -}}
{{- default (include "shadowqa.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Non-secret settings (services/settings.py), shared by the ConfigMap and the migration Job. */}}
{{- define "shadowqa.config" -}}
SHADOWQA_KAFKA_BOOTSTRAP: {{ .Values.kafka.bootstrap | quote }}
SHADOWQA_TOPIC_PREFIX: {{ .Values.kafka.topicPrefix | quote }}
SHADOWQA_PARTITIONS: {{ .Values.partitions | quote }}
{{- end }}

{{/* env entries of every long-running container: database URL from the Secret, HOME on the writable /tmp. */}}
{{- define "shadowqa.env" -}}
- name: SHADOWQA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "shadowqa.secretName" . }}
      key: {{ .Values.secrets.databaseUrlKey }}
- name: HOME
  value: /tmp
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-template annotations: a change of config or secret values rolls the pods. The secret's checksum is of its
values, not its rendering, which holds a token generated anew on each render when none is stored yet. */}}
{{- define "shadowqa.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ toJson .Values.secrets | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-spec fields shared by every pod; call with (dict "root" $ "spec" <component values>). */}}
{{- define "shadowqa.podCommon" -}}
{{- $root := .root }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with .spec.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The writable /tmp every container mounts (its root file system is read-only). */}}
{{- define "shadowqa.tmpVolume" -}}
- name: tmp
  emptyDir: {}
{{- end }}

{{- define "shadowqa.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
