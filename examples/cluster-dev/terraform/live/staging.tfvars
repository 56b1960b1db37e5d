project = "shop"
tier    = "staging"
services = ["web"]
