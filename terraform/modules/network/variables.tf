variable "name" {
  type        = string
  description = "Name prefix of the network's resources, <project>-<tier>."
}

variable "vpc_cidr" {
  type        = string
  description = "Address block of the network."
}

variable "private_subnets" {
  type        = list(string)
  description = "Private subnet CIDR blocks, one per availability zone (from modules/tier)."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
}
