"""Docent training jobs: one code path for a Kubernetes Job on GPUs and toy runs here."""
