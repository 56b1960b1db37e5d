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
    identifier          = "${local.prefix}-postgres"
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
  }
}
