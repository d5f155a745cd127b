{{- define "orleans-infer.redisAddress" -}}
{{- if .Values.redis.deploy -}}{{ .Release.Name }}-redis:6379{{- else -}}{{ required "redis.address is required when redis.deploy is false" .Values.redis.address }}{{- end -}}
{{- end -}}
