"""Reranking service: scores (query, passage) pairs with a cross-encoder."""
