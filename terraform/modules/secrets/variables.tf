variable "path" {
  type        = string
  description = "Parameter path of the tier, /<project>/<tier>/ (modules/tier secrets.path)."
}

variable "secret_names" {
  type        = list(string)
  description = "Secret names (the keys of `secrets` in environments/<tier>.yaml). Names only: values are set out of band."
}

variable "role_name" {
  type        = string
  description = "Name of the role that may read the tier's path, <project>-<tier>-secrets."
}

variable "policy_name" {
  type        = string
  description = "The reader role's policy, <project>-<tier>-secrets-read (modules/tier names)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (service is set to secrets here)."
}
