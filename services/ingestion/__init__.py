"""Ingestion: turn a folder of documents into parsed, chunked text ready to embed and index.

The transport-free core lives here (discovery, parsing, chunking); ``ingest`` wires it to the
embedding and retrieval services.
"""
