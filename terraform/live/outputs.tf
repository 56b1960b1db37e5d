output "namespace" {
  description = "Kubernetes namespace of the tier."
  value       = module.tier.namespace
}

output "cluster_endpoint" {
  description = "Private API endpoint of the tier's cluster (null for dev)."
  value       = var.cluster_enabled ? module.cluster[0].endpoint : null
}

output "database_address" {
  description = "Host of the managed database (null where the tier runs its own container)."
  value       = var.database_enabled ? module.database[0].address : null
}

output "database_master_secret_arn" {
  description = "Secret manager entry of the generated master credentials (never the password)."
  value       = var.database_enabled ? module.database[0].master_secret_arn : null
}

output "repository_urls" {
  description = "Image repository URL per service."
  value       = module.registry.repository_urls
}
