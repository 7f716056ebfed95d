"""HTTP routes: chat, and health/readiness/metrics."""
