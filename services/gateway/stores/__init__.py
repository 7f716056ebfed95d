"""Storage backends of the gateway: SQLite (one process) and Redis (shared by replicas)."""
