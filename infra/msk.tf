# Kafka: Amazon MSK, brokers spread over the private subnets, encrypted at rest and
# between brokers. Clients connect in plaintext on 9092 inside the VPC (the services'
# settings have no TLS/SASL option for Kafka yet), restricted to the tasks' security
# group; TLS on 9094 is open too, for when they do. No IAM auth: the task role reaches
# the bucket only.

resource "aws_cloudwatch_log_group" "msk" {
  name              = "/msk/${local.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_msk_configuration" "this" {
  name           = "${local.name}-${replace(var.msk_kafka_version, ".", "-")}"
  kafka_versions = [var.msk_kafka_version]
  description    = "Trending Now broker settings"

  # The services create their topics (TOPIC_PARTITIONS); the defaults match in case a
  # topic is created implicitly.
  server_properties = <<-EOT
    auto.create.topics.enable=true
    num.partitions=${var.topic_partitions}
    default.replication.factor=${local.msk_replication_factor}
    min.insync.replicas=${local.msk_min_insync_replicas}
    offsets.topic.replication.factor=${local.msk_replication_factor}
    transaction.state.log.replication.factor=${local.msk_replication_factor}
    transaction.state.log.min.isr=${local.msk_min_insync_replicas}
    log.retention.hours=168
    unclean.leader.election.enable=false
  EOT

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_msk_cluster" "this" {
  cluster_name           = local.name
  kafka_version          = var.msk_kafka_version
  number_of_broker_nodes = var.msk_broker_count

  broker_node_group_info {
    instance_type   = var.msk_instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.msk.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.msk_ebs_volume_size_gb
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS_PLAINTEXT"
      in_cluster    = true
    }
  }

  client_authentication {
    unauthenticated = true
  }

  # DEFAULT monitoring includes KafkaDataLogsDiskUsed per broker (the disk alarm).
  enhanced_monitoring = "DEFAULT"

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk.name
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.msk_broker_count % length(var.private_subnet_ids) == 0
      error_message = "msk_broker_count must be a multiple of the number of private subnets."
    }
  }
}
