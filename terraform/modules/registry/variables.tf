variable "repositories" {
  type        = list(string)
  description = "Repository names, <project>/<service>."
}

variable "untagged_retention_days" {
  type        = number
  description = "Days an untagged image (one no tag or pin refers to any more) is kept."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
}
