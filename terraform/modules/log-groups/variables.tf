variable "project" {
  type        = string
  description = "Project name (environments/base.yaml project)."
}

variable "tier" {
  type        = string
  description = "Tier the log groups belong to (environments/<tier>.yaml tier)."
}

variable "services" {
  type        = list(string)
  description = "Services that ship logs, one log group each (environments/base.yaml services)."
}

variable "retention_days" {
  type        = number
  description = "Days logs are kept: environments/<tier>.yaml observability.logs.retention_days, the one number for log retention."
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.retention_days)
    error_message = "retention_days must be a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags every log group carries."
  default     = {}
}
