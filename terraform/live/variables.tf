# The root module of every tier: `terraform plan -var-file=<tier>.tfvars`. These variables are
# the same, name for name and type for type, as modules/tier, and are handed to it unchanged;
# the validation rules (prod guard rails included) live only there, and Terraform applies them
# to the values passed in. test/integration/terraform.test.ts fails when the two lists drift.

variable "project" {
  type        = string
  description = "Project name (environments/base.yaml `project`); prefixes every resource name."
}

variable "tier" {
  type        = string
  description = "Tier these resources belong to: dev, staging or prod (environments/<tier>.yaml)."
}

variable "region" {
  type        = string
  description = "Cloud region the tier runs in, e.g. eu-west-1."
}

variable "vpc_cidr" {
  type        = string
  description = "Address block of the tier's network; the overlay's postgres egress NetworkPolicy allows exactly this block."
}

variable "availability_zones" {
  type        = number
  description = "How many availability zones the network (and a multi-AZ database) spans."
  default     = 2
}

variable "cluster_enabled" {
  type        = bool
  description = "Create a Kubernetes cluster for this tier (false for dev, which runs on Docker Compose)."
}

variable "cluster_version" {
  type        = string
  description = "Kubernetes minor version of the cluster control plane, e.g. \"1.32\"."
  default     = "1.32"
}

variable "node_instance_type" {
  type        = string
  description = "Instance type of the cluster's worker nodes."
  default     = "t3.medium"
}

variable "node_count" {
  type = object({
    min     = number
    desired = number
    max     = number
  })
  description = "Worker node pool size: min <= desired <= max."
  default     = { min = 1, desired = 1, max = 1 }
}

variable "database_enabled" {
  type        = bool
  description = "Provision managed PostgreSQL (true where environments/<tier>.yaml has dependencies.postgres.provided_by: managed)."
}

variable "database_engine_version" {
  type        = string
  description = "PostgreSQL major version (dependencies.postgres.version)."
  default     = "15"
}

variable "database_name" {
  type        = string
  description = "Name of the application database (dependencies.postgres.database)."
  default     = "tiers"
}

variable "database_port" {
  type        = number
  description = "Port PostgreSQL listens on (dependencies.postgres.port)."
  default     = 5432
}

variable "database_instance_class" {
  type        = string
  description = "Database instance size, e.g. db.t4g.micro."
  default     = "db.t4g.micro"
}

variable "database_storage_gb" {
  type = object({
    allocated = number
    max       = number
  })
  description = "Initial storage and the ceiling storage autoscaling may grow to, in GiB."
  default     = { allocated = 20, max = 50 }
}

variable "database_multi_az" {
  type        = bool
  description = "Keep a synchronous standby in another availability zone (required in prod)."
  default     = false
}

variable "database_backup_retention_days" {
  type        = number
  description = "Days automated backups are kept (0 disables them; prod needs at least 14)."
  default     = 7
}

variable "database_deletion_protection" {
  type        = bool
  description = "Refuse to delete the database (and take a final snapshot); required in prod."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Days platform logs are kept (environments/<tier>.yaml observability.logs.retention_days)."
}

variable "artefact_retention_days" {
  type        = number
  description = "Days an image no tier pins stays in the registry (retention.artefacts_days)."
}

variable "services" {
  type        = list(string)
  description = "Services that get an image repository (the keys of `services` in environments/base.yaml)."
}

variable "tags" {
  type        = map(string)
  description = "Extra tags put on every resource (project and tier tags are always added)."
  default     = {}
}

# --- Evidence store, secrets by path, cost and state (docs/terraform.md "The tiers") ---

variable "evidence_lock_mode" {
  type        = string
  description = "Object Lock mode of the evidence store: NONE (dev), GOVERNANCE (staging) or COMPLIANCE (prod)."
}

variable "evidence_retention_days" {
  type        = number
  description = "Days promotion evidence is kept (locked, where a lock mode is set) before it may expire."
}

variable "secret_names" {
  type        = list(string)
  description = "Names of the tier's secrets (the keys of `secrets` in environments/<tier>.yaml): parameters /<project>/<tier>/<name>. Names only, never values."
}

variable "budget_monthly_usd" {
  type        = number
  description = "Monthly cost budget of the tier in USD (printed by `tiers infra plan`)."
}

variable "budget_alert_thresholds" {
  type        = list(number)
  description = "Percentages of the monthly budget at which an alert is sent, ascending, e.g. [50, 80, 100]."
  default     = [50, 80, 100]
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "Who receives the budget alerts."
}

variable "state_protected" {
  type        = bool
  description = "Protect the tier's state bucket and lock table from deletion (required in prod)."
  default     = false
}
