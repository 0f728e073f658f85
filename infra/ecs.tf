# ECS on Fargate: one task definition per service, all from the one image; the command
# picks the service. The api sits behind the load balancer and scales on CPU; the
# consumers scale by task count up to the topic partition count; scraper and drift run
# one task each. Migrations run as a one-off task (see the `migrate_command` output).

resource "aws_ecs_cluster" "this" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "ecs" {
  for_each = local.log_group_names

  name              = each.value
  retention_in_days = var.log_retention_days
}

locals {
  openai_secret_env = [{ name = "OPENAI_API_KEY", valueFrom = aws_secretsmanager_secret.openai_api_key.arn }]

  # One container definition per service.
  containers = {
    for name, svc in var.services : name => {
      name      = name
      image     = local.image
      essential = true
      command   = ["python", "-m", "services.${name}"]

      environment = [
        for key, value in merge(
          local.common_environment,
          name == "enricher" ? local.enricher_environment : {},
          {
            OTEL_SERVICE_NAME = name
            # liveness only: /metrics answers while the process runs (a broker-only
            # service's /healthz pings Kafka, and ECS would replace every task during
            # a broker outage)
            HEALTHCHECK_URL = name == "api" ? "http://127.0.0.1:8000/healthz" : "http://127.0.0.1:9100/metrics"
          },
          lookup(var.service_environment, name, {}),
        ) : { name = key, value = value }
      ]

      secrets = concat(
        [{ name = "PGPASSWORD", valueFrom = "${local.db_password_secret_arn}:password::" }],
        name == "enricher" && var.openai_enabled ? local.openai_secret_env : [],
      )

      portMappings = [{
        name          = name == "api" ? "http" : "metrics"
        containerPort = name == "api" ? 8000 : 9100
        protocol      = "tcp"
      }]

      healthCheck = {
        command     = local.healthcheck_command
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 90
      }

      # consumers finish the batch in hand and commit their offsets on SIGTERM
      stopTimeout = 45

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.ecs[name].name
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = name
        }
      }
    }
  }
}

resource "aws_ecs_task_definition" "service" {
  for_each = var.services

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.containers[each.key]])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

# Alembic migrations: `python -m trendkit.db.migrate upgrade`, run once per release
# before the services roll out (the `migrate_command` output is the exact command).
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([{
    name        = "migrate"
    image       = local.image
    essential   = true
    command     = ["python", "-m", "trendkit.db.migrate", "upgrade"]
    environment = [for key, value in local.common_environment : { name = key, value = value }]
    secrets = [
      { name = "PGPASSWORD", valueFrom = "${local.db_password_secret_arn}:password::" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.ecs["migrate"].name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "migrate"
      }
    }
  }])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

# --- the broker-only services ------------------------------------------------------------

resource "aws_ecs_service" "consumer" {
  for_each = local.consumer_services

  name            = each.key
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.service[each.key].arn
  # A consumer group gives each partition to one member: tasks beyond the partition
  # count would sit idle (see the precondition).
  desired_count    = var.start_services ? each.value.desired_count : 0
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  lifecycle {
    precondition {
      condition     = !contains(local.partitioned_services, each.key) || each.value.desired_count <= var.topic_partitions
      error_message = "${each.key}: desired_count above topic_partitions; the extra tasks would idle."
    }
  }
}

# --- the api -----------------------------------------------------------------------------

resource "aws_ecs_service" "api" {
  name             = "api"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.service["api"].arn
  desired_count    = var.start_services ? var.services["api"].desired_count : 0
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = "api"
    container_port   = 8000
  }

  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  # the autoscaling below owns the running count
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.http]
}

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.start_services ? var.services["api"].desired_count : 0
  max_capacity       = var.start_services ? var.api_max_count : 0
}

resource "aws_appautoscaling_policy" "api_cpu" {
  name               = "${local.name}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.api_cpu_target_percent

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }

    # websocket clients reconnect on scale-in: add quickly, remove slowly
    scale_out_cooldown = 60
    scale_in_cooldown  = 300
  }
}
