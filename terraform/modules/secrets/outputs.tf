output "parameters" {
  description = "Parameter names created, /<project>/<tier>/<name>."
  value       = [for p in aws_ssm_parameter.this : p.name]
}

output "role_arn" {
  description = "ARN of the role that reads the tier's path."
  value       = aws_iam_role.reader.arn
}
