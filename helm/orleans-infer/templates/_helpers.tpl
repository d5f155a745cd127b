{{/* Object name prefix: fullnameOverride or the release name (kept short enough for pod hostnames). */}}
{{- define "orleans-infer.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "orleans-infer.labels" -}}
app.kubernetes.io/name: orleans-infer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "root" $ "component" "silo"). */}}
{{- define "orleans-infer.selectorLabels" -}}
app.kubernetes.io/name: orleans-infer
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "orleans-infer.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{- define "orleans-infer.redisAddress" -}}
{{- if .Values.redis.deploy -}}{{ include "orleans-infer.fullname" . }}-redis:6379{{- else -}}{{ required "redis.address is required when redis.deploy is false" .Values.redis.address }}{{- end -}}
{{- end -}}

{{/* The silo's termination grace: the drain, then the margin for the rest of the shutdown (the silo host allows drain + 15 s). */}}
{{- define "orleans-infer.siloTerminationGrace" -}}
{{- add .Values.silo.drainTimeoutSeconds .Values.silo.terminationMarginSeconds -}}
{{- end -}}

{{/* Downward-API environment both components use for Orleans and the OpenTelemetry resource. */}}
{{- define "orleans-infer.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: POD_UID
  valueFrom:
    fieldRef:
      fieldPath: metadata.uid
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- end -}}

{{/*
OpenTelemetry environment of one component (after podEnv, whose variables it references):
include with (dict "root" $ "component" "silo" "workload" "k8s.statefulset.name=NAME").
OTLP export is on only when otel.endpoint is set.
*/}}
{{- define "orleans-infer.otelEnv" -}}
{{- $otel := .root.Values.otel -}}
{{- $attributes := list "k8s.namespace.name=$(POD_NAMESPACE)" "k8s.pod.name=$(POD_NAME)" "k8s.pod.uid=$(POD_UID)" "k8s.node.name=$(NODE_NAME)" (printf "k8s.container.name=%s" .component) .workload "service.instance.id=$(POD_NAME)" -}}
{{- range $key, $value := $otel.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) -}}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ get $otel.serviceNames .component | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- if $otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $otel.protocol | quote }}
{{- end }}
{{- end -}}

{{/* prometheus.io annotations for a pod serving /metrics on the given port: include with (dict "root" $ "port" 8080). */}}
{{- define "orleans-infer.scrapeAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{- define "orleans-infer.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
periodSeconds: {{ .probe.periodSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
{{- end -}}
