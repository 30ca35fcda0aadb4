{{/* The name of one service's objects: <release>-<service>. Call with (dict "root" $ "name" $name). */}}
{{- define "grantline.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "grantline.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "grantline.labels" -}}
{{ include "grantline.selectorLabels" . }}
app.kubernetes.io/part-of: grantline
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "grantline.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .name .root.Values.image.tag -}}
{{- end -}}

{{/* Where a mounted ConfigMap is read, and the variable that tells the service. */}}
{{- define "grantline.fileDirs" -}}
catalog: { env: CATALOG_DIR, path: /etc/grantline/catalog }
campaigns: { env: APPROVAL_CAMPAIGNS_DIR, path: /etc/grantline/campaigns }
policies: { env: POLICY_BUNDLE_DIR, path: /etc/grantline/policies }
{{- end -}}
