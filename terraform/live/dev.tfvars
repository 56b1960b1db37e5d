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
