terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
  # State per tier: `terraform init -backend-config="key=tiers/<tier>.tfstate" ...`; the bucket
  # and lock table are the team's, so they are given at init time, not written here.
  backend "s3" {}
}

provider "aws" {
  region = var.region
  default_tags {
    tags = module.tier.tags
  }
}
