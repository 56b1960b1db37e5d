variable "bucket" {
  type        = string
  description = "State bucket name, <project>-<tier>-state (= infra.state.bucket of environments/<tier>.yaml)."
}

variable "lock_table" {
  type        = string
  description = "Lock table name, <project>-<tier>-state-lock (= infra.state.lock_table)."
}

variable "protected" {
  type        = bool
  description = "Deny deleting the bucket or any state version, and protect the lock table (prod)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (service is set to state here)."
}
