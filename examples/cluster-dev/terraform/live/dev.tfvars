project = "shop"
tier    = "dev"
services = ["web"]
