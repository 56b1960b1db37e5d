# `terraform test` for modules/tier: runs offline (the module needs no provider). Each run plans
# the module with the variables below; expect_failures names the validations that must refuse.

variables {
  project                 = "tiers"
  tier                    = "staging"
  region                  = "eu-west-1"
  vpc_cidr                = "10.20.0.0/16"
  cluster_enabled         = true
  database_enabled        = true
  log_retention_days      = 14
  artefact_retention_days = 90
  services                = ["api", "worker"]
}

run "names_follow_project_and_tier" {
  command = plan

  assert {
    condition     = output.namespace == "tiers-staging"
    error_message = "the namespace must be <project>-<tier>"
  }
  assert {
    condition     = output.database.identifier == "tiers-staging-postgres"
    error_message = "the database identifier must be <project>-<tier>-postgres"
  }
  assert {
    condition     = output.private_subnets == ["10.20.0.0/20", "10.20.16.0/20"]
    error_message = "one /20 per availability zone, from the bottom of the block"
  }
  assert {
    condition     = output.repositories == ["tiers/api", "tiers/worker"]
    error_message = "one repository per service, <project>/<service>"
  }
}

run "no_database_outputs_where_none_is_managed" {
  command = plan

  variables {
    tier             = "dev"
    cluster_enabled  = false
    database_enabled = false
  }

  assert {
    condition     = output.database == null && output.cluster == null
    error_message = "dev has neither a managed database nor a cluster"
  }
}

run "prod_refuses_an_unprotected_database" {
  command = plan

  variables {
    tier                           = "prod"
    database_multi_az              = false
    database_deletion_protection   = false
    database_backup_retention_days = 3
  }

  expect_failures = [
    var.database_multi_az,
    var.database_deletion_protection,
    var.database_backup_retention_days,
  ]
}

run "node_counts_must_be_ordered" {
  command = plan

  variables {
    node_count = { min = 3, desired = 2, max = 4 }
  }

  expect_failures = [var.node_count]
}

run "log_retention_must_be_offered" {
  command = plan

  variables {
    log_retention_days = 10
  }

  expect_failures = [var.log_retention_days]
}
