"""HTTP plumbing shared by every route: errors, middleware, SSE, disconnects, probes."""
