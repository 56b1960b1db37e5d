# Names and derived settings of one tier, computed once so every module agrees on them.
locals {
  # <project>-<tier>: the Kubernetes namespace of the tier and the prefix of its resources.
  prefix = "${var.project}-${var.tier}"

  tags = merge(var.tags, {
    project    = var.project
    tier       = var.tier
    managed-by = "terraform"
  })

  # One /20 per availability zone for private subnets, starting at the bottom of the block.
  private_subnets = [for i in range(var.availability_zones) : cidrsubnet(var.vpc_cidr, 20 - tonumber(split("/", var.vpc_cidr)[1]), i)]

  # A final snapshot is taken whenever the database is protected from deletion.
  final_snapshot = var.database_deletion_protection
}
