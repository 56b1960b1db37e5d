output "log_groups" {
  description = "Log group name by service."
  value       = { for service, group in aws_cloudwatch_log_group.service : service => group.name }
}
