# The evidence store: promotion evidence (passages, attestations, test and infra records) is
# archived here at promotion time. With a lock mode, every object version is write-once for
# retention_days (S3 Object Lock default retention); COMPLIANCE cannot be shortened by anyone.
locals {
  locked = var.lock_mode != "NONE"
  tags   = merge(var.tags, { service = "evidence" })
}

resource "aws_s3_bucket" "this" {
  bucket = var.bucket
  # Object Lock can only be turned on when the bucket is created.
  object_lock_enabled = local.locked
  tags                = local.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled" # Object Lock requires versioning; without a lock it keeps overwritten evidence
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count  = local.locked ? 1 : 0
  bucket = aws_s3_bucket.this.id
  rule {
    default_retention {
      mode = var.lock_mode
      days = var.retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    id     = "expire-after-retention"
    status = "Enabled"
    filter {}
    expiration {
      days = var.retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
