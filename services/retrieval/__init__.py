"""Retrieval service: a SQLite document store plus dense (FAISS) and sparse (tantivy) indexes.

The store is the source of truth; both indexes are derived from it and rebuilt from it whenever
their recorded generation disagrees with the store's, so a crash can only cost a rebuild.
"""
