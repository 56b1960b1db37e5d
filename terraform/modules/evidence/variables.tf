variable "bucket" {
  type        = string
  description = "Bucket name, <project>-<tier>-evidence (modules/tier names.evidence_bucket)."
}

variable "lock_mode" {
  type        = string
  description = "Object Lock default retention mode: NONE (no lock), GOVERNANCE or COMPLIANCE (validated in modules/tier)."
}

variable "retention_days" {
  type        = number
  description = "Default retention of every archived object, in days; objects expire after it."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (project, tier; service is set to evidence here)."
}
