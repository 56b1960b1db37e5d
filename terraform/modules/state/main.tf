# Remote state of one tier: a versioned, KMS-encrypted, private bucket and a lock table. The
# tier's backend (environments/<tier>.yaml infra.state) points at them; bootstrap once with a
# local backend, then `terraform init -migrate-state` (docs/terraform.md).
locals {
  tags = merge(var.tags, { service = "state" })
}

resource "aws_s3_bucket" "this" {
  bucket = var.bucket
  tags   = local.tags
  # Losing state orphans every resource of the tier: never destroyed by terraform, in any tier.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Protected state (prod): nobody deletes the bucket or a state version, and plain HTTP is refused.
resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "TLSOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      var.protected ? [{
        Sid       = "ProtectedState"
        Effect    = "Deny"
        Principal = "*"
        Action    = ["s3:DeleteBucket", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration"]
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      }] : [],
    )
  })
}

resource "aws_dynamodb_table" "lock" {
  name                        = var.lock_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID" # the key the S3 backend writes
  deletion_protection_enabled = var.protected
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = var.protected
  }
  attribute {
    name = "LockID"
    type = "S"
  }
  tags = local.tags
}
