"""Shared runtime, written once: settings, gRPC server, metrics, tracing, logs, clients."""
