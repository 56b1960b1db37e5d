variable "name" {
  type        = string
  description = "Cluster name, <project>-<tier>."
}

variable "role_name" {
  type        = string
  description = "IAM role of the control plane, <project>-<tier>-cluster (modules/tier names)."
}

variable "node_role_name" {
  type        = string
  description = "IAM role of the worker nodes, <project>-<tier>-nodes (modules/tier names)."
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane, e.g. \"1.32\"."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the control plane and nodes use."
}

variable "node_instance_type" {
  type        = string
  description = "Instance type of the worker nodes."
}

variable "node_count" {
  type = object({
    min     = number
    desired = number
    max     = number
  })
  description = "Worker node pool size."
}

variable "log_retention_days" {
  type        = number
  description = "Days the control plane's logs are kept."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
}
