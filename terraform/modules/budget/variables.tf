variable "name" {
  type        = string
  description = "Budget name, <project>-<tier>-budget."
}

variable "tier" {
  type        = string
  description = "Tier whose cost (by its `tier` cost-allocation tag) the budget tracks."
}

variable "monthly_usd" {
  type        = number
  description = "Monthly limit in USD."
}

variable "alert_thresholds" {
  type        = list(number)
  description = "Percentages of the limit at which an alert is sent (actual spend)."
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses that receive the alerts."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (service is set to budget here)."
}
