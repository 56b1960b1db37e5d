# Every per-tier knob of the infrastructure, declared and validated once. terraform/live passes
# its variables straight through, and test/integration/terraform.test.ts plans this module with
# each <tier>.tfvars, so a bad value fails offline before any provider is involved.

variable "project" {
  type        = string
  description = "Project name (environments/base.yaml `project`); prefixes every resource name."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "tier" {
  type        = string
  description = "Tier these resources belong to: dev, staging or prod (environments/<tier>.yaml)."
  validation {
    condition     = contains(["dev", "staging", "prod"], var.tier)
    error_message = "tier must be one of dev, staging, prod."
  }
}

variable "region" {
  type        = string
  description = "Cloud region the tier runs in, e.g. eu-west-1."
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "Address block of the tier's network; the overlay's postgres egress NetworkPolicy allows exactly this block."
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block of /20 or larger, e.g. 10.20.0.0/16."
  }
}

variable "availability_zones" {
  type        = number
  description = "How many availability zones the network (and a multi-AZ database) spans."
  default     = 2
  validation {
    condition     = var.availability_zones >= 1 && var.availability_zones <= 3
    error_message = "availability_zones must be 1, 2 or 3."
  }
}

variable "cluster_enabled" {
  type        = bool
  description = "Create a Kubernetes cluster for this tier (false for dev, which runs on Docker Compose)."
}

variable "cluster_version" {
  type        = string
  description = "Kubernetes minor version of the cluster control plane, e.g. \"1.32\"."
  default     = "1.32"
  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.cluster_version))
    error_message = "cluster_version must be a Kubernetes minor version such as \"1.32\"."
  }
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
  validation {
    condition     = var.node_count.min >= 0 && var.node_count.min <= var.node_count.desired && var.node_count.desired <= var.node_count.max
    error_message = "node_count must satisfy 0 <= min <= desired <= max."
  }
}

variable "database_enabled" {
  type        = bool
  description = "Provision managed PostgreSQL (true where environments/<tier>.yaml has dependencies.postgres.provided_by: managed)."
}

variable "database_engine_version" {
  type        = string
  description = "PostgreSQL major version (dependencies.postgres.version)."
  default     = "15"
  validation {
    condition     = can(regex("^[0-9]{2}$", var.database_engine_version))
    error_message = "database_engine_version must be a PostgreSQL major version such as \"15\"."
  }
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
  validation {
    condition     = startswith(var.database_instance_class, "db.")
    error_message = "database_instance_class must be a database instance class (db.*)."
  }
}

variable "database_storage_gb" {
  type = object({
    allocated = number
    max       = number
  })
  description = "Initial storage and the ceiling storage autoscaling may grow to, in GiB."
  default     = { allocated = 20, max = 50 }
  validation {
    condition     = var.database_storage_gb.allocated >= 20 && var.database_storage_gb.max >= var.database_storage_gb.allocated
    error_message = "database_storage_gb needs allocated >= 20 and max >= allocated."
  }
}

variable "database_multi_az" {
  type        = bool
  description = "Keep a synchronous standby in another availability zone (required in prod)."
  default     = false
  validation {
    condition     = var.tier != "prod" || var.database_multi_az
    error_message = "prod's database must be multi-AZ: set database_multi_az = true."
  }
}

variable "database_backup_retention_days" {
  type        = number
  description = "Days automated backups are kept (0 disables them; prod needs at least 14)."
  default     = 7
  validation {
    condition     = var.database_backup_retention_days >= 0 && var.database_backup_retention_days <= 35
    error_message = "database_backup_retention_days must be between 0 and 35."
  }
  validation {
    condition     = var.tier != "prod" || var.database_backup_retention_days >= 14
    error_message = "prod keeps backups for at least 14 days."
  }
}

variable "database_deletion_protection" {
  type        = bool
  description = "Refuse to delete the database (and take a final snapshot); required in prod."
  default     = false
  validation {
    condition     = var.tier != "prod" || var.database_deletion_protection
    error_message = "prod's database must have deletion protection: set database_deletion_protection = true."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days platform logs are kept (environments/<tier>.yaml observability.logs.retention_days)."
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention the log service offers (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "artefact_retention_days" {
  type        = number
  description = "Days an image no tier pins stays in the registry (retention.artefacts_days)."
  validation {
    condition     = var.artefact_retention_days >= 1
    error_message = "artefact_retention_days must be at least 1."
  }
}

variable "services" {
  type        = list(string)
  description = "Services that get an image repository (the keys of `services` in environments/base.yaml)."
  validation {
    condition     = length(var.services) > 0 && alltrue([for s in var.services : can(regex("^[a-z][a-z0-9-]*$", s))])
    error_message = "services must be a non-empty list of lower-case service names."
  }
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
  validation {
    condition     = contains(["NONE", "GOVERNANCE", "COMPLIANCE"], var.evidence_lock_mode)
    error_message = "evidence_lock_mode must be NONE, GOVERNANCE or COMPLIANCE."
  }
  validation {
    # COMPLIANCE: not even the account root can shorten or remove a retention once set.
    condition     = var.tier != "prod" || var.evidence_lock_mode == "COMPLIANCE"
    error_message = "prod's evidence store must use Object Lock in COMPLIANCE mode."
  }
  validation {
    condition     = var.tier != "staging" || var.evidence_lock_mode != "NONE"
    error_message = "staging's evidence store must be locked (GOVERNANCE or COMPLIANCE)."
  }
}

variable "evidence_retention_days" {
  type        = number
  description = "Days promotion evidence is kept (locked, where a lock mode is set) before it may expire."
  validation {
    condition     = var.evidence_retention_days >= 1 && var.evidence_retention_days <= 3650
    error_message = "evidence_retention_days must be between 1 and 3650."
  }
  validation {
    condition     = var.tier != "prod" || var.evidence_retention_days >= 1095
    error_message = "prod keeps promotion evidence for at least 1095 days (3 years)."
  }
}

variable "secret_names" {
  type        = list(string)
  description = "Names of the tier's secrets (the keys of `secrets` in environments/<tier>.yaml): parameters /<project>/<tier>/<name>. Names only, never values."
  validation {
    condition     = alltrue([for s in var.secret_names : can(regex("^[a-z][a-z0-9_]*$", s))])
    error_message = "secret_names must be secret names such as database_url (lower-case, digits, '_')."
  }
}

variable "budget_monthly_usd" {
  type        = number
  description = "Monthly cost budget of the tier in USD (printed by `tiers infra plan`)."
  validation {
    condition     = var.budget_monthly_usd > 0
    error_message = "budget_monthly_usd must be greater than 0."
  }
}

variable "budget_alert_thresholds" {
  type        = list(number)
  description = "Percentages of the monthly budget at which an alert is sent, ascending, e.g. [50, 80, 100]."
  default     = [50, 80, 100]
  validation {
    condition = length(var.budget_alert_thresholds) > 0 && alltrue([for t in var.budget_alert_thresholds : t > 0 && t <= 200]) && alltrue([
      for i in range(max(0, length(var.budget_alert_thresholds) - 1)) : var.budget_alert_thresholds[i + 1] > var.budget_alert_thresholds[i]
    ])
    error_message = "budget_alert_thresholds must be a non-empty ascending list of percentages in (0, 200]."
  }
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "Who receives the budget alerts."
  validation {
    condition     = length(var.budget_alert_emails) > 0 && alltrue([for e in var.budget_alert_emails : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "budget_alert_emails must list at least one e-mail address."
  }
}

variable "state_protected" {
  type        = bool
  description = "Protect the tier's state bucket and lock table from deletion (required in prod)."
  default     = false
  validation {
    condition     = var.tier != "prod" || var.state_protected
    error_message = "prod's state must be protected: set state_protected = true."
  }
}
