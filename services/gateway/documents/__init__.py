"""Document upload and ingestion jobs."""
