"""Parsers: one module per source format, each returning a :class:`ParsedDocument`."""

from services.ingestion.parsers.markdown import parse_markdown

__all__ = ["parse_markdown"]
