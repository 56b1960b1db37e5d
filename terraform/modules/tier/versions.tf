# Provider-free on purpose: this module only validates a tier's settings and derives names, so
# `terraform init -backend=false`, `validate` and `plan` run anywhere, even with no network.
terraform {
  required_version = ">= 1.9.0" # validation blocks that refer to other variables
}
