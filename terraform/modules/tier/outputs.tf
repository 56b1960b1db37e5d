output "prefix" {
  description = "<project>-<tier>: namespace and resource-name prefix."
  value       = local.prefix
}

output "namespace" {
  description = "Kubernetes namespace of the tier (k8s/overlays/<tier> `namespace`)."
  value       = local.prefix
}

output "tags" {
  description = "Tags every resource of the tier carries."
  value       = local.tags
}

output "private_subnets" {
  description = "Private subnet CIDR blocks, one per availability zone."
  value       = local.private_subnets
}

output "database" {
  description = "Database settings after validation (null when the tier has no managed database)."
  value = var.database_enabled ? {
    identifier          = local.names.database
    engine_version      = var.database_engine_version
    name                = var.database_name
    port                = var.database_port
    instance_class      = var.database_instance_class
    storage_gb          = var.database_storage_gb
    multi_az            = var.database_multi_az
    backup_retention    = var.database_backup_retention_days
    deletion_protection = var.database_deletion_protection
    final_snapshot      = local.final_snapshot
  } : null
}

output "cluster" {
  description = "Cluster settings after validation (null when the tier has no cluster)."
  value = var.cluster_enabled ? {
    name          = local.prefix
    role_name     = local.names.cluster_role
    node_role     = local.names.nodes_role
    version       = var.cluster_version
    instance_type = var.node_instance_type
    node_count    = var.node_count
  } : null
}

output "repositories" {
  description = "Image repository names, <project>/<service>."
  value       = [for s in var.services : "${var.project}/${s}"]
}

output "settings" {
  description = "Every validated input, so tests and tools can read the tier's values as Terraform parsed them."
  value = {
    project                        = var.project
    tier                           = var.tier
    region                         = var.region
    vpc_cidr                       = var.vpc_cidr
    cluster_enabled                = var.cluster_enabled
    database_enabled               = var.database_enabled
    database_engine_version        = var.database_engine_version
    database_name                  = var.database_name
    database_port                  = var.database_port
    database_multi_az              = var.database_multi_az
    database_backup_retention_days = var.database_backup_retention_days
    database_deletion_protection   = var.database_deletion_protection
    log_retention_days             = var.log_retention_days
    artefact_retention_days        = var.artefact_retention_days
    services                       = var.services
    evidence_lock_mode             = var.evidence_lock_mode
    evidence_retention_days        = var.evidence_retention_days
    secret_names                   = var.secret_names
    budget_monthly_usd             = var.budget_monthly_usd
    budget_alert_thresholds        = var.budget_alert_thresholds
    state_protected                = var.state_protected
  }
}

output "names" {
  description = "Resource names, each <project>-<tier>-<service>."
  value       = local.names
}

output "evidence" {
  description = "Evidence store settings after validation."
  value = {
    bucket         = local.names.evidence_bucket
    lock_mode      = var.evidence_lock_mode
    retention_days = var.evidence_retention_days
  }
}

output "secrets" {
  description = "The tier's parameter path, parameter names and reader role."
  value = {
    path       = local.secret_path
    parameters = [for s in var.secret_names : "${local.secret_path}${s}"]
    role       = local.names.secrets_role
    policy     = local.names.secrets_policy
  }
}

output "budget" {
  description = "Monthly budget of the tier."
  value = {
    name             = local.names.budget
    monthly_usd      = var.budget_monthly_usd
    alert_thresholds = var.budget_alert_thresholds
    alert_emails     = var.budget_alert_emails
  }
}

output "state" {
  description = "Names and protection of the tier's state bucket and lock table."
  value = {
    bucket     = local.names.state_bucket
    lock_table = local.names.state_lock
    protected  = var.state_protected
  }
}
