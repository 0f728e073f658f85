terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }

  # State in S3 with native locking; the settings come from a file kept out of git:
  #   terraform init -backend-config=backend.hcl     (see backend.hcl.example)
  backend "s3" {}
}
