"""Sparse (lexical, BM25) indexes."""
