variable "family_name" {
  type    = string
  default = "singsong"
}

variable "container_name" {
  type    = string
  default = "singsong-container"
}

variable "service_name" {
  type    = string
  default = "singsong"
}

variable "app_image" {
  description = "The application image."
  type        = string
}

variable "log_router_image" {
  description = "The router image built from docker/Dockerfile (aws-for-fluent-bit with out_datadog_go.so)."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role; it needs secretsmanager:GetSecretValue on the API key secret."
  type        = string
}

variable "datadog_site" {
  type    = string
  default = "datadoghq.com"
}

variable "datadog_api_key_secret_arn" {
  description = "Secrets Manager ARN of the Datadog API key."
  type        = string
}
