"""Dense (embedding) indexes."""
