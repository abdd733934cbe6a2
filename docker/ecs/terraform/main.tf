# The seed's task definition with out_datadog_go as the FireLens output.
# Equivalent to ../task-definition.json (a test in docker/ecs keeps the two
# equal).

locals {
  # The Datadog Agent sidecar collects Fluent Bit's metrics, the plugin's
  # included, from the router's HTTP server (Autodiscovery label, openmetrics
  # check).
  router_checks = {
    openmetrics = {
      init_config = {}
      instances = [
        {
          openmetrics_endpoint = "http://%%host%%:2020/api/v2/metrics/prometheus"
          namespace            = "fluentbit"
          raw_metric_prefix    = "fluentbit_"
          metrics              = ["input_.*", "output_.*", "storage_.*", "datadog_go_.*", "uptime"]
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
          site                       = var.datadog_site
          workers                    = "2"
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
      name              = "datadog-agent"
      image             = var.datadog_agent_image
      essential         = true
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
