variable "identifier" {
  type        = string
  description = "Database instance identifier, <project>-<tier>-postgres."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major version."
}

variable "database_name" {
  type        = string
  description = "Name of the application database."
}

variable "port" {
  type        = number
  description = "Port PostgreSQL listens on."
}

variable "instance_class" {
  type        = string
  description = "Instance size, e.g. db.t4g.micro."
}

variable "storage_gb" {
  type = object({
    allocated = number
    max       = number
  })
  description = "Initial storage and the storage autoscaling ceiling, in GiB."
}

variable "multi_az" {
  type        = bool
  description = "Keep a synchronous standby in another availability zone."
}

variable "backup_retention_days" {
  type        = number
  description = "Days automated backups are kept."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse deletion and take a final snapshot when the instance is removed."
}

variable "vpc_id" {
  type        = string
  description = "Network the database lives in."
}

variable "vpc_cidr" {
  type        = string
  description = "Only this address block may reach the database port."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the database subnet group."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
}
