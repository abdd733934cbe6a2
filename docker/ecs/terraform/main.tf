# The seed's task definition with out_datadog_go as the FireLens output.
# Equivalent to ../task-definition.json.

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
      logConfiguration = {
        logDriver = "awsfirelens"
        options = {
          Name           = "datadog_go"
          dd_message_key = "log"
          dd_service     = var.service_name
          dd_source      = "httpd"
          dd_tags        = "env:prod"
          provider       = "ecs"
          site           = var.datadog_site
          workers        = "2"
          Retry_Limit    = "no_limits"
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
      name      = "log-router"
      image     = var.log_router_image
      essential = true
      firelensConfiguration = {
        type = "fluentbit"
        options = {
          "enable-ecs-log-metadata" = "true"
        }
      }
    },
    {
      name      = "datadog-agent"
      image     = "public.ecr.aws/datadog/agent:latest"
      essential = true
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
    }
  ])
}
