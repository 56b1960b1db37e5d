# Names and derived settings of one tier, computed once so every module agrees on them.
locals {
  # <project>-<tier>: the Kubernetes namespace of the tier and the prefix of its resources.
  prefix = "${var.project}-${var.tier}"

  # Cost-allocation tags: project, tier and service on every resource. `service` defaults to
  # "platform" (the provider's default_tags); modules that serve one thing override it.
  tags = merge(var.tags, {
    project    = var.project
    tier       = var.tier
    service    = "platform"
    managed-by = "terraform"
  })

  # <project>-<tier>-<service>, the one naming rule (pipelines/src/core/environment resourceName
  # gives the same names to the k8s objects; test/integration/terraform.test.ts compares them).
  names = {
    evidence_bucket = "${local.prefix}-evidence"
    state_bucket    = "${local.prefix}-state"
    state_lock      = "${local.prefix}-state-lock"
    secrets_role    = "${local.prefix}-secrets"
    secrets_policy  = "${local.prefix}-secrets-read"
    budget          = "${local.prefix}-budget"
    database        = "${local.prefix}-postgres"
    cluster_role    = "${local.prefix}-cluster"
    nodes_role      = "${local.prefix}-nodes"
  }

  # Parameters of the tier's secrets: /<project>/<tier>/<name>.
  secret_path = "/${var.project}/${var.tier}/"

  # One /20 per availability zone for private subnets, starting at the bottom of the block.
  private_subnets = [for i in range(var.availability_zones) : cidrsubnet(var.vpc_cidr, 20 - tonumber(split("/", var.vpc_cidr)[1]), i)]

  # A final snapshot is taken whenever the database is protected from deletion.
  final_snapshot = var.database_deletion_protection
}
