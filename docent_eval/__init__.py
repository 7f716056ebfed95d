"""Evaluators: retrieval quality in process, safety against a running gateway."""
