# Secrets Manager. The database password's secret is created and rotated by RDS
# (rds.tf). The OpenAI key's secret is created empty here; its value is put out of band,
# so it never enters the Terraform state:
#   aws secretsmanager put-secret-value --secret-id <openai_secret_arn> --secret-string 'sk-...'

resource "aws_secretsmanager_secret" "openai_api_key" {
  name                    = "${local.name}/openai-api-key"
  description             = "OpenAI (or compatible) API key of the Trending Now enricher"
  recovery_window_in_days = 7
}
