# Secrets by path: one SecureString parameter per secret reference of the tier, under
# /<project>/<tier>/<name>, and one role per tier that may read only that path. Terraform
# creates the parameters with a placeholder and never manages the value (ignore_changes), so
# no secret value is ever a variable, in a plan or in state.
locals {
  tags = merge(var.tags, { service = "secrets" })
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

resource "aws_ssm_parameter" "this" {
  for_each    = toset(var.secret_names)
  name        = "${var.path}${each.value}"
  type        = "SecureString"
  value       = "unset: the value is written out of band, never by terraform"
  description = "secrets.${each.value} of the tier (environments/<tier>.yaml)"
  tags        = local.tags
  lifecycle {
    ignore_changes = [value]
  }
}

# Pods of the tier's cluster assume the role through EKS Pod Identity.
resource "aws_iam_role" "reader" {
  name = var.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "read_own_path" {
  name = var.policy_name
  role = aws_iam_role.reader.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
        Resource = "arn:aws:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${var.path}*"
      },
      {
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = { StringEquals = { "kms:ViaService" = "ssm.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ]
  })
}
