output "task_definition_arn" {
  value = aws_ecs_task_definition.singsong_ecs_task_definition.arn
}
