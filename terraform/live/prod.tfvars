# 🜄 prod: a larger cluster across three zones and a multi-AZ database with deletion protection
# and a month of backups. modules/tier refuses prod values without them. Values that mirror
# environments/prod.yaml (and k8s/overlays/prod) are checked by test/integration/terraform.test.ts.
project            = "tiers"
tier               = "prod"
region             = "eu-west-1"
vpc_cidr           = "10.30.0.0/16" # = the overlay's postgres egress block
availability_zones = 3

cluster_enabled    = true
cluster_version    = "1.32"
node_instance_type = "m6i.large"
node_count         = { min = 3, desired = 3, max = 9 }

database_enabled               = true # dependencies.postgres.provided_by: managed
database_engine_version        = "15" # dependencies.postgres.version
database_name                  = "tiers"
database_port                  = 5432
database_instance_class        = "db.m6g.large"
database_storage_gb            = { allocated = 100, max = 500 }
database_multi_az              = true
database_backup_retention_days = 30
database_deletion_protection   = true

log_retention_days      = 30  # observability.logs.retention_days
artefact_retention_days = 365 # retention.artefacts_days
services                = ["api", "worker"]

# Evidence store (design table): dev no lock 7 days, staging GOVERNANCE 365, prod COMPLIANCE 1095.
evidence_lock_mode      = "COMPLIANCE"
evidence_retention_days = 1095

secret_names = ["database_url"] # = the keys of `secrets` in environments/prod.yaml (names only)

budget_monthly_usd      = 3000
budget_alert_thresholds = [50, 80, 100]
budget_alert_emails     = ["platform@tiers.example"]

state_protected = true
