output "name" {
  description = "Cluster name."
  value       = aws_eks_cluster.this.name
}

output "endpoint" {
  description = "Private API server endpoint (goes into the tier's kubeconfig secret)."
  value       = aws_eks_cluster.this.endpoint
}

output "certificate_authority" {
  description = "Base64 CA bundle of the API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}
