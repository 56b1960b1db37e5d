# 🜂 dev runs on Docker Compose on laptops: no cluster, no managed database; only the image
# repositories the pipeline publishes to. Values that mirror environments/dev.yaml are checked
# by test/integration/terraform.test.ts.
project  = "tiers"
tier     = "dev"
region   = "eu-west-1"
vpc_cidr = "10.10.0.0/16"

cluster_enabled  = false
database_enabled = false

log_retention_days      = 1 # observability.logs.retention_days
artefact_retention_days = 7 # retention.artefacts_days
services                = ["api", "worker"]

# Evidence store (design table): dev no lock 7 days, staging GOVERNANCE 365, prod COMPLIANCE 1095.
evidence_lock_mode      = "NONE"
evidence_retention_days = 7

secret_names = ["database_url"] # = the keys of `secrets` in environments/dev.yaml (names only)

budget_monthly_usd      = 100
budget_alert_thresholds = [50, 80, 100]
budget_alert_emails     = ["platform@tiers.example"]

state_protected = false
