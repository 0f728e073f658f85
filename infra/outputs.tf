output "app_url" {
  description = "Where the app (frontend, REST, /ws/trends) is served."
  value       = "${local.https_enabled ? "https" : "http"}://${aws_lb.api.dns_name}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point a CNAME/alias at it)."
  value       = aws_lb.api.dns_name
}

output "ecr_repository_url" {
  description = "Push the image here: docker push <url>:<image_tag>."
  value       = aws_ecr_repository.app.repository_url
}

output "bucket_name" {
  description = "Object-store bucket (OBJECT_STORE_URL=s3://<bucket>/)."
  value       = aws_s3_bucket.objects.bucket
}

output "database_url" {
  description = "DATABASE_URL without the password (the tasks get PGPASSWORD from the secret)."
  value       = local.common_environment.DATABASE_URL
}

output "db_password_secret_arn" {
  description = "Secrets Manager secret with the database credentials (managed and rotated by RDS)."
  value       = local.db_password_secret_arn
}

output "openai_secret_arn" {
  description = "Secrets Manager secret to put the OpenAI key into (then set openai_enabled = true)."
  value       = aws_secretsmanager_secret.openai_api_key.arn
}

output "kafka_bootstrap_servers" {
  description = "KAFKA_BOOTSTRAP_SERVERS of the MSK cluster (plaintext, inside the VPC)."
  value       = aws_msk_cluster.this.bootstrap_brokers
}

output "redis_url" {
  description = "REDIS_URL of the ElastiCache replication group (TLS)."
  value       = local.common_environment.REDIS_URL
}

output "ecs_cluster_name" {
  description = "ECS cluster of the services."
  value       = aws_ecs_cluster.this.name
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms (subscribe a pager or chat here)."
  value       = aws_sns_topic.alarms.arn
}

output "migrate_command" {
  description = "Runs the database migrations as a one-off Fargate task; run it before the services roll out a new release."
  value = join(" ", [
    "aws ecs run-task",
    "--region ${var.aws_region}",
    "--cluster ${aws_ecs_cluster.this.name}",
    "--launch-type FARGATE",
    "--task-definition ${aws_ecs_task_definition.migrate.arn}",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.private_subnet_ids)}],securityGroups=[${aws_security_group.tasks.id}],assignPublicIp=DISABLED}'",
  ])
}
