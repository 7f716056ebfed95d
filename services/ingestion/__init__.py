"""Ingestion: a folder of documents parsed, chunked, embedded and upserted into retrieval.

Parsing and chunking are library code (``docentlib.documents``, ``docentlib.chunking``);
``ingest`` runs them and talks to the embedding and retrieval services.
"""
