"""Docent: every service, the gateway, the CLI and the shared runtime."""
