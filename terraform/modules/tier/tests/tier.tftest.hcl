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
  evidence_lock_mode      = "GOVERNANCE"
  evidence_retention_days = 365
  secret_names            = ["database_url"]
  budget_monthly_usd      = 500
  budget_alert_emails     = ["platform@tiers.example"]
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
    # The rest of prod's guard rails are satisfied, so only the database's rules refuse.
    evidence_lock_mode      = "COMPLIANCE"
    evidence_retention_days = 1095
    state_protected         = true
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

run "every_resource_name_is_project_tier_service" {
  command = plan

  assert {
    condition = output.names == {
      evidence_bucket = "tiers-staging-evidence"
      state_bucket    = "tiers-staging-state"
      state_lock      = "tiers-staging-state-lock"
      secrets_role    = "tiers-staging-secrets"
      secrets_policy  = "tiers-staging-secrets-read"
      budget          = "tiers-staging-budget"
      database        = "tiers-staging-postgres"
      cluster_role    = "tiers-staging-cluster"
      nodes_role      = "tiers-staging-nodes"
    }
    error_message = "every name is <project>-<tier>-<service>"
  }
  assert {
    condition     = output.secrets.path == "/tiers/staging/" && output.secrets.parameters == ["/tiers/staging/database_url"]
    error_message = "secrets live under /<project>/<tier>/<name>"
  }
  assert {
    condition     = output.tags.project == "tiers" && output.tags.tier == "staging" && output.tags.service == "platform"
    error_message = "every resource carries the project, tier and service cost-allocation tags"
  }
}

run "prod_refuses_unlocked_evidence_short_retention_and_unprotected_state" {
  command = plan

  variables {
    tier                           = "prod"
    database_multi_az              = true
    database_deletion_protection   = true
    database_backup_retention_days = 30
    evidence_lock_mode             = "GOVERNANCE"
    evidence_retention_days        = 365
    state_protected                = false
  }

  expect_failures = [
    var.evidence_lock_mode,
    var.evidence_retention_days,
    var.state_protected,
  ]
}

run "staging_refuses_an_unlocked_evidence_store" {
  command = plan

  variables {
    evidence_lock_mode = "NONE"
  }

  expect_failures = [var.evidence_lock_mode]
}

run "dev_may_keep_evidence_unlocked_for_a_week" {
  command = plan

  variables {
    tier                    = "dev"
    cluster_enabled         = false
    database_enabled        = false
    evidence_lock_mode      = "NONE"
    evidence_retention_days = 7
  }

  assert {
    condition     = output.evidence == { bucket = "tiers-dev-evidence", lock_mode = "NONE", retention_days = 7 }
    error_message = "dev's evidence store is unlocked and keeps 7 days"
  }
}

run "budget_thresholds_must_ascend" {
  command = plan

  variables {
    budget_alert_thresholds = [80, 50, 100]
  }

  expect_failures = [var.budget_alert_thresholds]
}

run "budget_must_be_positive_and_alerts_need_a_recipient" {
  command = plan

  variables {
    budget_monthly_usd  = 0
    budget_alert_emails = []
  }

  expect_failures = [var.budget_monthly_usd, var.budget_alert_emails]
}

run "secret_names_are_names_never_values" {
  command = plan

  variables {
    secret_names = ["postgresql://user:pw@host/db"]
  }

  expect_failures = [var.secret_names]
}
