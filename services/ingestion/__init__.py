"""Ingestion: the gRPC service that parses, chunks, embeds and indexes documents.

Uploads become jobs (``core``, records in a ``JobStore``); a folder the service can see is
ingested by ``IngestPath``. Parsing and chunking are library code (``docentlib.documents``,
``docentlib.chunking``); ``ingest`` runs them and talks to the embedding and retrieval services.
"""
