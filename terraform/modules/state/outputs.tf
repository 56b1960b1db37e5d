output "bucket" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.this.bucket
}

output "lock_table" {
  description = "Name of the lock table."
  value       = aws_dynamodb_table.lock.name
}
