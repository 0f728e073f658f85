# The object store: raw fetched pages, raw observations as Parquet, training datasets,
# model artifacts, drift reports. Private, encrypted, versioned; TLS only.

resource "aws_s3_bucket" "objects" {
  # account id in the name: bucket names are global
  bucket = "${local.name}-objects-${local.account_id}"
}

resource "aws_s3_bucket_ownership_controls" "objects" {
  bucket = aws_s3_bucket.objects.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "objects" {
  bucket = aws_s3_bucket.objects.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "objects" {
  bucket = aws_s3_bucket.objects.id

  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-S3: encrypted at rest without a KMS key the task role would also need rights on.
resource "aws_s3_bucket_server_side_encryption_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id

  # Raw pages are kept for audits and re-parsing, rarely read after the first days.
  rule {
    id     = "raw-pages"
    status = "Enabled"

    filter {
      prefix = var.raw_pages_prefix
    }

    transition {
      days          = var.raw_pages_infrequent_access_days
      storage_class = "STANDARD_IA"
    }

    transition {
      days          = var.raw_pages_glacier_days
      storage_class = "GLACIER_IR"
    }

    expiration {
      days = var.raw_pages_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  # Keys are deterministic, so re-runs overwrite: old versions are kept a while, then go.
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.objects]
}

data "aws_iam_policy_document" "objects_tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.objects.arn,
      "${aws_s3_bucket.objects.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "objects" {
  bucket = aws_s3_bucket.objects.id
  policy = data.aws_iam_policy_document.objects_tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.objects]
}
