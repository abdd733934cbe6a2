# The seed's task definition with out_datadog_go as the FireLens output.
# Equivalent to ../task-definition.json (a test in docker/ecs keeps the two
# equal).

locals {
  # The Datadog Agent sidecar collects the plugin's metrics and Fluent Bit's
  # own of the output from the router's HTTP server (Autodiscovery label,
  # openmetrics check; docs/operations.md names each).
  router_checks = {
    openmetrics = {
      init_config = {}
      instances = [
        {
          openmetrics_endpoint = "http://127.0.0.1:2020/api/v2/metrics/prometheus"
          namespace            = "fluentbit"
          metrics = [
            {
              "fluentbit_datadog_go_records_received"                = "datadog_go.records_received"
              "fluentbit_datadog_go_records_delivered"               = "datadog_go.records_delivered"
              "fluentbit_datadog_go_records_dropped"                 = "datadog_go.records_dropped"
              "fluentbit_datadog_go_records_too_old"                 = "datadog_go.records_too_old"
              "fluentbit_datadog_go_requests"                        = "datadog_go.requests"
              "fluentbit_datadog_go_retries"                         = "datadog_go.retries"
              "fluentbit_datadog_go_raw_bytes"                       = "datadog_go.raw_bytes"
              "fluentbit_datadog_go_wire_bytes"                      = "datadog_go.wire_bytes"
              "fluentbit_datadog_go_messages_truncated"              = "datadog_go.messages_truncated"
              "fluentbit_datadog_go_split_lines"                     = "datadog_go.split_lines"
              "fluentbit_datadog_go_multiline_logs"                  = "datadog_go.multiline_logs"
              "fluentbit_datadog_go_lines_joined"                    = "datadog_go.lines_joined"
              "fluentbit_datadog_go_panics"                          = "datadog_go.panics"
              "fluentbit_datadog_go_last_accepted_timestamp_seconds" = "datadog_go.last_accepted_timestamp_seconds"
              "fluentbit_datadog_go_last_failed_timestamp_seconds"   = "datadog_go.last_failed_timestamp_seconds"
              "fluentbit_datadog_go_records_pending"                 = "datadog_go.records_pending"
              "fluentbit_datadog_go_request_duration_seconds"        = "datadog_go.request_duration_seconds"
              "fluentbit_datadog_go_request_duration_seconds_bucket" = "datadog_go.request_duration_seconds.bucket"
              "fluentbit_datadog_go_request_duration_seconds_sum"    = "datadog_go.request_duration_seconds.sum"
              "fluentbit_datadog_go_request_duration_seconds_count"  = "datadog_go.request_duration_seconds.count"
              "fluentbit_output_proc_records"                        = "output.proc_records"
              "fluentbit_output_retries"                             = "output.retries"
              "fluentbit_output_retries_failed"                      = "output.retries_failed"
              "fluentbit_output_dropped_records"                     = "output.dropped_records"
              "fluentbit_output_errors"                              = "output.errors"
              "fluentbit_output_upstream_total_connections"          = "output.upstream_total_connections"
              "fluentbit_output_upstream_busy_connections"           = "output.upstream_busy_connections"
            }
          ]
        }
      ]
    }
  }
}

resource "aws_cloudwatch_log_group" "task" {
  name              = "/ecs/${var.family_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "singsong_ecs_task_definition" {
  family                   = var.family_name
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "1024"
  memory                   = "2048"
  execution_role_arn       = var.execution_role_arn
  # ARM64 (Graviton) runs the same task: the router image is built for both.
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([
    {
      name      = var.container_name
      image     = var.app_image
      essential = true
      portMappings = [
        {
          containerPort = 8080
          hostPort      = 8080
        }
      ]
      dependsOn = [
        {
          containerName = "log-router"
          condition     = "START"
        }
      ]
      logConfiguration = {
        logDriver = "awsfirelens"
        options = {
          Name                       = "datadog_go"
          dd_message_key             = "log"
          dd_service                 = var.service_name
          dd_source                  = "httpd"
          dd_tags                    = "env:prod"
          provider                   = "ecs"
          auto_multiline             = "on"
          site                       = var.datadog_site
          workers                    = "4"
          Retry_Limit                = "no_limits"
          "storage.total_limit_size" = "1G"
        }
        secretOptions = [
          {
            name      = "apikey"
            valueFrom = var.datadog_api_key_secret_arn
          }
        ]
      }
    },
    {
      name              = "log-router"
      image             = var.log_router_image
      essential         = true
      memoryReservation = 128
      stopTimeout       = 40
      firelensConfiguration = {
        type = "fluentbit"
        options = {
          "enable-ecs-log-metadata" = "true"
          "config-file-type"        = "file"
          "config-file-value"       = "/fluent-bit/etc/out_datadog_go.conf"
        }
      }
      healthCheck = {
        command     = ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:2020/api/v1/uptime"]
        interval    = 10
        timeout     = 5
        retries     = 3
        startPeriod = 15
      }
      dockerLabels = {
        "com.datadoghq.ad.checks" = jsonencode(local.router_checks)
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.task.name
          "awslogs-region"        = var.aws_region
          "awslogs-stream-prefix" = "log-router"
        }
      }
    },
    {
      name  = "datadog-agent"
      image = var.datadog_agent_image
      # A failing Agent probe must not stop the app's task: the Agent only
      # collects metrics (docs/deploy.md).
      essential         = false
      memoryReservation = 256
      environment = [
        {
          name  = "DD_SITE"
          value = var.datadog_site
        },
        {
          name  = "ECS_FARGATE"
          value = "true"
        },
      ]
      secrets = [
        {
          name      = "DD_API_KEY"
          valueFrom = var.datadog_api_key_secret_arn
        }
      ]
      healthCheck = {
        command     = ["CMD-SHELL", "/probe.sh"]
        interval    = 30
        timeout     = 5
        retries     = 2
        startPeriod = 60
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.task.name
          "awslogs-region"        = var.aws_region
          "awslogs-stream-prefix" = "datadog-agent"
        }
      }
    }
  ])
}
