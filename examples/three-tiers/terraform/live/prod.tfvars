project = "shop"
tier    = "prod"
services = ["web"]
