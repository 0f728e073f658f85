# --- general ------------------------------------------------------------------------

variable "project" {
  description = "Name prefix of every resource."
  type        = string
  default     = "trending-now"
}

variable "environment" {
  description = "Environment name (prod, staging, …); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.environment))
    error_message = "environment: lowercase letters, digits and dashes, 2-12 characters."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Refuse to delete the database and the load balancer (set false before a planned destroy)."
  type        = bool
  default     = true
}

# --- network (an existing VPC) ------------------------------------------------------

variable "vpc_id" {
  description = "Existing VPC to deploy into."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets, one per availability zone (at least two), with a route to the internet through a NAT gateway (ECR pulls, the OpenAI API). Tasks, RDS, MSK and ElastiCache live here."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "At least two private subnets in different availability zones are needed (RDS, MSK)."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets (at least two availability zones) for the application load balancer."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs at least two subnets."
  }
}

variable "allowed_ingress_cidrs" {
  description = "CIDR blocks that may reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the load balancer. Null: plain HTTP on port 80 only (testing)."
  type        = string
  default     = null
}

# --- application ----------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the service image in the ECR repository this creates (built from deploy/Dockerfile). Tags are immutable: use a version or a commit id."
  type        = string
}

variable "start_services" {
  description = "Run the services. Set to false on the very first apply: push the image and run the migration task first, then apply again with true."
  type        = bool
  default     = true
}

variable "services" {
  description = "Fargate size and task count per service (CPU units, memory MiB). The consumers enricher and classifier scale by count up to topic_partitions; the scorer ranks all titles and runs as one task; scraper and drift run on schedules and need one task; the api count is the autoscaling minimum."
  type = map(object({
    cpu           = number
    memory        = number
    desired_count = number
  }))
  default = {
    scraper    = { cpu = 256, memory = 512, desired_count = 1 }
    enricher   = { cpu = 1024, memory = 2048, desired_count = 2 }
    classifier = { cpu = 1024, memory = 2048, desired_count = 2 }
    scorer     = { cpu = 512, memory = 1024, desired_count = 1 } # one process: global ranking (docs/scorer.md)
    api        = { cpu = 512, memory = 1024, desired_count = 2 }
    drift      = { cpu = 512, memory = 1024, desired_count = 1 }
  }

  validation {
    condition = alltrue([
      for name in ["scraper", "enricher", "classifier", "scorer", "api", "drift"] :
      contains(keys(var.services), name)
    ])
    error_message = "services must define scraper, enricher, classifier, scorer, api and drift."
  }
}

variable "service_environment" {
  description = "Extra environment variables per service, e.g. { scraper = { SCRAPER_INTERVAL_S = \"300\" } }. Not for secrets."
  type        = map(map(string))
  default     = {}
}

variable "api_max_count" {
  description = "Upper bound of api tasks for CPU autoscaling (the lower bound is services.api.desired_count)."
  type        = number
  default     = 10
}

variable "api_cpu_target_percent" {
  description = "Average CPU utilisation the api autoscaling keeps."
  type        = number
  default     = 60
}

variable "topic_partitions" {
  description = "Partitions per Kafka topic: the most consumers one stage can use."
  type        = number
  default     = 6
}

variable "dlq_max_attempts" {
  description = "Attempts before a failing message goes to its dead-letter topic."
  type        = number
  default     = 3
}

variable "log_level" {
  description = "Log level of the services."
  type        = string
  default     = "INFO"
}

variable "openai_enabled" {
  description = "Give the enricher the OpenAI key from Secrets Manager. Put the secret's value first (see the README); while false the enricher uses its local model."
  type        = bool
  default     = false
}

variable "openai_base_url" {
  description = "OpenAI-compatible endpoint for the enricher (vLLM, a gateway). Null: api.openai.com."
  type        = string
  default     = null
}

variable "enricher_model" {
  description = "LLM model name the enricher asks for (ENRICHER_MODEL). Null: the enricher's default."
  type        = string
  default     = null
}

# --- object store -------------------------------------------------------------------

variable "raw_pages_prefix" {
  description = "Key prefix of the raw fetched pages (gzip) in the bucket; the lifecycle rule moves them to cheaper storage and expires them."
  type        = string
  default     = "raw/"
}

variable "raw_pages_infrequent_access_days" {
  description = "Days before raw pages move to S3 Standard-IA (at least 30)."
  type        = number
  default     = 30
}

variable "raw_pages_glacier_days" {
  description = "Days before raw pages move to Glacier Instant Retrieval."
  type        = number
  default     = 90
}

variable "raw_pages_expiration_days" {
  description = "Days before raw pages are deleted."
  type        = number
  default     = 365
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten object version is kept (keys are deterministic, so re-runs overwrite)."
  type        = number
  default     = 30
}

# --- Postgres (RDS) -------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL version on RDS (major, or major.minor)."
  type        = string
  default     = "16"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage (GiB)."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling (GiB)."
  type        = number
  default     = 200
}

variable "db_multi_az" {
  description = "Standby replica in a second availability zone."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 7
}


# --- Kafka (MSK) ----------------------------------------------------------------------

variable "msk_kafka_version" {
  description = "Apache Kafka version of the MSK cluster."
  type        = string
  default     = "3.6.0"
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.t3.small"
}

variable "msk_broker_count" {
  description = "Number of brokers; a multiple of the number of private subnets."
  type        = number
  default     = 2
}

variable "msk_ebs_volume_size_gb" {
  description = "EBS storage per broker (GiB)."
  type        = number
  default     = 100
}

# --- Redis (ElastiCache) ----------------------------------------------------------------

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes (1 primary + replicas); 2 or more enables automatic failover. The cache holds nothing that cannot be rebuilt."
  type        = number
  default     = 1
}

# --- monitoring ----------------------------------------------------------------------

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the services' logs."
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarms topic (confirm the subscription mail). Null: no subscription."
  type        = string
  default     = null
}

variable "alb_5xx_threshold" {
  description = "5xx responses per 5 minutes (from the targets or the load balancer) that raise an alarm."
  type        = number
  default     = 10
}

variable "rds_cpu_threshold_percent" {
  description = "RDS CPU utilisation that raises an alarm when sustained for 15 minutes."
  type        = number
  default     = 80
}

variable "msk_disk_threshold_percent" {
  description = "Per-broker data disk usage (percent) that raises an alarm."
  type        = number
  default     = 80
}
