# 🜃 staging: a small cluster and a single-AZ database with a week of backups. Values that
# mirror environments/staging.yaml (and k8s/overlays/staging) are checked by
# test/integration/terraform.test.ts.
project            = "tiers"
tier               = "staging"
region             = "eu-west-1"
vpc_cidr           = "10.20.0.0/16" # = the overlay's postgres egress block
availability_zones = 2

cluster_enabled    = true
cluster_version    = "1.32"
node_instance_type = "t3.medium"
node_count         = { min = 2, desired = 2, max = 4 }

database_enabled               = true # dependencies.postgres.provided_by: managed
database_engine_version        = "15" # dependencies.postgres.version
database_name                  = "tiers"
database_port                  = 5432
database_instance_class        = "db.t4g.small"
database_storage_gb            = { allocated = 20, max = 100 }
database_multi_az              = false
database_backup_retention_days = 7
database_deletion_protection   = false

log_retention_days      = 14 # observability.logs.retention_days
artefact_retention_days = 90 # retention.artefacts_days
services                = ["api", "worker"]

# Evidence store (design table): dev no lock 7 days, staging GOVERNANCE 365, prod COMPLIANCE 1095.
evidence_lock_mode      = "GOVERNANCE"
evidence_retention_days = 365

secret_names = ["database_url"] # = the keys of `secrets` in environments/staging.yaml (names only)

budget_monthly_usd      = 500
budget_alert_thresholds = [50, 80, 100]
budget_alert_emails     = ["platform@tiers.example"]

state_protected = false
