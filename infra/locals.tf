locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  https_enabled = var.certificate_arn != null

  # The broker-only services; the api is defined on its own (load balancer, autoscaling).
  consumer_services = { for name, svc in var.services : name => svc if name != "api" }
  # Services that read a topic through a consumer group: capped by the partition count.
  partitioned_services = ["enricher", "classifier", "scorer"]

  # Replication inside MSK: 3 copies where there are 3 brokers, and one copy may be lost
  # without refusing writes.
  msk_replication_factor  = min(3, var.msk_broker_count)
  msk_min_insync_replicas = max(1, local.msk_replication_factor - 1)

  # trendkit/settings.py: one URL per connection, no prefix. The database password is
  # not in DATABASE_URL: asyncpg reads PGPASSWORD, injected from the RDS-managed secret.
  common_environment = {
    KAFKA_BOOTSTRAP_SERVERS = aws_msk_cluster.this.bootstrap_brokers
    DATABASE_URL            = "postgresql+asyncpg://${aws_db_instance.this.username}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${aws_db_instance.this.db_name}"
    REDIS_URL               = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
    OBJECT_STORE_URL        = "s3://${aws_s3_bucket.objects.bucket}/"
    AWS_REGION              = var.aws_region
    AWS_DEFAULT_REGION      = var.aws_region
    TOPIC_PREFIX            = ""
    TOPIC_PARTITIONS        = tostring(var.topic_partitions)
    DLQ_MAX_ATTEMPTS        = tostring(var.dlq_max_attempts)
    LOG_LEVEL               = var.log_level
    METRICS_PORT            = "9100"
    BIND_HOST               = "0.0.0.0" # reachable by the load balancer and scrapers
  }

  enricher_environment = merge(
    var.openai_base_url == null ? {} : { OPENAI_BASE_URL = var.openai_base_url },
    var.enricher_model == null ? {} : { ENRICHER_MODEL = var.enricher_model },
  )

  db_password_secret_arn = aws_db_instance.this.master_user_secret[0].secret_arn

  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  # The container probes its own endpoint (ECS ignores the image's HEALTHCHECK).
  healthcheck_command = [
    "CMD", "python", "-c",
    "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)",
  ]

  log_group_names = merge(
    { for name in keys(var.services) : name => "/ecs/${local.name}/${name}" },
    { migrate = "/ecs/${local.name}/migrate" },
  )
}
