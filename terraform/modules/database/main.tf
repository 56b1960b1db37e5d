# Managed PostgreSQL for a Kubernetes tier. The master password is generated and kept by the
# cloud's secret manager (manage_master_user_password), so no password is ever a Terraform
# variable or lands in state; the application reads its connection string through the tier's
# secret reference (secrets.database_url) and an ExternalSecret in the overlay.
resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = var.identifier
  description = "PostgreSQL reachable from the tier's network only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description = "PostgreSQL from the tier's network"
    from_port   = var.port
    to_port     = var.port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_db_instance" "this" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.database_name
  port           = var.port
  username       = "tiers_admin"

  manage_master_user_password = true

  allocated_storage     = var.storage_gb.allocated
  max_allocated_storage = var.storage_gb.max
  storage_type          = "gp3"
  storage_encrypted     = true

  multi_az                = var.multi_az
  backup_retention_period = var.backup_retention_days
  backup_window           = "02:00-03:00"
  maintenance_window      = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot   = true

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.identifier}-final" : null

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false

  auto_minor_version_upgrade = true
  tags                       = var.tags
}
