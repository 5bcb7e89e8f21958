{{- define "pave.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pave.fullname" -}}
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

{{- define "pave.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pave.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pave.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "pave.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pave
{{- end }}

{{- define "pave.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pave.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pave.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Service's DNS names: the Host check accepts them, the webhook certificate names them. */}}
{{- define "pave.serviceHosts" -}}
{{- $svc := include "pave.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | join "," }}
{{- end }}

{{- define "pave.webhookTlsSecret" -}}
{{- if .Values.admission.certManager.enabled }}
{{- printf "%s-webhook-tls" (include "pave.fullname" .) }}
{{- else }}
{{- required "admission.existingTlsSecret (a kubernetes.io/tls Secret) is required without cert-manager" .Values.admission.existingTlsSecret }}
{{- end }}
{{- end }}

{{/* Several replicas need one shared PostgreSQL: a SQLite file belongs to one pod. */}}
{{- define "pave.validate" -}}
{{- if not .Values.database.existingSecret }}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}
{{- fail "several replicas (replicaCount > 1 or autoscaling.enabled) need PostgreSQL: set database.existingSecret" }}
{{- end }}
{{- end }}
{{- if and .Values.persistence.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "persistence.enabled is a ReadWriteOnce volume for one replica: set replicaCount 1 and autoscaling.enabled false" }}
{{- end }}
{{- if not (has .Values.admission.failurePolicy (list "Fail" "Ignore")) }}
{{- fail "admission.failurePolicy must be Fail or Ignore" }}
{{- end }}
{{- end }}
