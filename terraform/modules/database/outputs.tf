output "address" {
  description = "Host name of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}

output "master_secret_arn" {
  description = "Secret manager entry holding the generated master credentials."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
