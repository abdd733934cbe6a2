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

variable "datadog_agent_image" {
  description = "The Datadog Agent sidecar image, pinned to a release."
  type        = string
  default     = "public.ecr.aws/datadog/agent:7.77.2"
}

variable "execution_role_arn" {
  description = "Task execution role; it needs secretsmanager:GetSecretValue on the API key secret and logs:CreateLogStream/PutLogEvents on the log group."
  type        = string
}

variable "aws_region" {
  description = "Region of the task and of its CloudWatch log group (the router's and the Agent's own logs)."
  type        = string
  default     = "us-east-1"
}

variable "log_retention_days" {
  description = "Retention of the task's CloudWatch log group."
  type        = number
  default     = 30
}

variable "datadog_site" {
  description = "Datadog site of your account."
  type        = string
  default     = "datadoghq.com"

  validation {
    condition = contains([
      "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com", "ap2.datadoghq.com",
      "uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com",
    ], var.datadog_site)
    error_message = "datadog_site must be a Datadog site such as datadoghq.com, us3.datadoghq.com or datadoghq.eu (the part of your Datadog URL after app.)."
  }
}

variable "datadog_api_key_secret_arn" {
  description = "Secrets Manager ARN of the Datadog API key."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.datadog_api_key_secret_arn))
    error_message = "datadog_api_key_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:...)."
  }
}

variable "cpu_architecture" {
  description = "The task's CPU architecture on Fargate: X86_64, or ARM64 (Graviton). The router image holds both."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture is X86_64 or ARM64 (ECS's spelling)."
  }
}
