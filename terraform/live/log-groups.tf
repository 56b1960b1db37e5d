# One CloudWatch log group per service of the tier (terraform/modules/log-groups).
# Kept in its own file: the retention is the same number as modules/tier's log_retention_days.
module "log_groups" {
  source = "../modules/log-groups"

  project        = var.project
  tier           = var.tier
  services       = var.services
  retention_days = var.log_retention_days
  tags           = var.tags
}
