# One root, one variable file per tier (dev.tfvars, staging.tfvars, prod.tfvars), never a copy
# of a module per tier. modules/tier validates the tier's settings and derives every name.
module "tier" {
  source = "../modules/tier"

  project                        = var.project
  tier                           = var.tier
  region                         = var.region
  vpc_cidr                       = var.vpc_cidr
  availability_zones             = var.availability_zones
  cluster_enabled                = var.cluster_enabled
  cluster_version                = var.cluster_version
  node_instance_type             = var.node_instance_type
  node_count                     = var.node_count
  database_enabled               = var.database_enabled
  database_engine_version        = var.database_engine_version
  database_name                  = var.database_name
  database_port                  = var.database_port
  database_instance_class        = var.database_instance_class
  database_storage_gb            = var.database_storage_gb
  database_multi_az              = var.database_multi_az
  database_backup_retention_days = var.database_backup_retention_days
  database_deletion_protection   = var.database_deletion_protection
  log_retention_days             = var.log_retention_days
  artefact_retention_days        = var.artefact_retention_days
  services                       = var.services
  tags                           = var.tags
  evidence_lock_mode             = var.evidence_lock_mode
  evidence_retention_days        = var.evidence_retention_days
  secret_names                   = var.secret_names
  budget_monthly_usd             = var.budget_monthly_usd
  budget_alert_thresholds        = var.budget_alert_thresholds
  budget_alert_emails            = var.budget_alert_emails
  state_protected                = var.state_protected
}

module "registry" {
  source                  = "../modules/registry"
  repositories            = module.tier.repositories
  untagged_retention_days = var.artefact_retention_days
  tags                    = module.tier.tags
}

module "network" {
  source          = "../modules/network"
  count           = var.cluster_enabled || var.database_enabled ? 1 : 0
  name            = module.tier.prefix
  vpc_cidr        = var.vpc_cidr
  private_subnets = module.tier.private_subnets
  tags            = module.tier.tags
}

module "cluster" {
  source             = "../modules/cluster"
  count              = var.cluster_enabled ? 1 : 0
  name               = module.tier.cluster.name
  role_name          = module.tier.cluster.role_name
  node_role_name     = module.tier.cluster.node_role
  kubernetes_version = module.tier.cluster.version
  subnet_ids         = module.network[0].private_subnet_ids
  node_instance_type = module.tier.cluster.instance_type
  node_count         = module.tier.cluster.node_count
  log_retention_days = var.log_retention_days
  tags               = module.tier.tags
}

module "database" {
  source                = "../modules/database"
  count                 = var.database_enabled ? 1 : 0
  identifier            = module.tier.database.identifier
  engine_version        = module.tier.database.engine_version
  database_name         = module.tier.database.name
  port                  = module.tier.database.port
  instance_class        = module.tier.database.instance_class
  storage_gb            = module.tier.database.storage_gb
  multi_az              = module.tier.database.multi_az
  backup_retention_days = module.tier.database.backup_retention
  deletion_protection   = module.tier.database.deletion_protection
  vpc_id                = module.network[0].vpc_id
  vpc_cidr              = var.vpc_cidr
  subnet_ids            = module.network[0].private_subnet_ids
  tags                  = module.tier.tags
}

module "evidence" {
  source         = "../modules/evidence"
  bucket         = module.tier.evidence.bucket
  lock_mode      = module.tier.evidence.lock_mode
  retention_days = module.tier.evidence.retention_days
  tags           = module.tier.tags
}

module "secrets" {
  source       = "../modules/secrets"
  path         = module.tier.secrets.path
  secret_names = var.secret_names
  role_name    = module.tier.secrets.role
  policy_name  = module.tier.secrets.policy
  tags         = module.tier.tags
}

module "budget" {
  source           = "../modules/budget"
  name             = module.tier.budget.name
  tier             = var.tier
  monthly_usd      = module.tier.budget.monthly_usd
  alert_thresholds = module.tier.budget.alert_thresholds
  alert_emails     = module.tier.budget.alert_emails
  tags             = module.tier.tags
}

module "state" {
  source     = "../modules/state"
  bucket     = module.tier.state.bucket
  lock_table = module.tier.state.lock_table
  protected  = module.tier.state.protected
  tags       = module.tier.tags
}
