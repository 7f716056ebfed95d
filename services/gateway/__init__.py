"""The gateway: REST/SSE front door that owns the chat pipeline across the gRPC services."""
