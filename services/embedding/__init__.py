"""Embedding service: texts to unit vectors with a sentence-transformers model."""
