# One log group per service of the tier, kept as long as the tier's config says
# (observability.logs.retention_days, handed in through terraform/live/<tier>.tfvars
# log_retention_days, which a test holds to the config).
resource "aws_cloudwatch_log_group" "service" {
  for_each          = toset(var.services)
  name              = "/${var.project}/${var.tier}/${each.value}"
  retention_in_days = var.retention_days
  tags              = merge(var.tags, { "${var.project}/tier" = var.tier, "${var.project}/service" = each.value })
}
