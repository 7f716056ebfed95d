"""Parsers: one module per source format, each returning a :class:`ParsedDocument`.

:mod:`services.ingestion.parsers.registry` maps file suffixes to them.
"""

from services.ingestion.parsers.markdown import parse_markdown
from services.ingestion.parsers.registry import PARSERS, SUFFIXES, parse_bytes, parser_for

__all__ = ["PARSERS", "SUFFIXES", "parse_bytes", "parse_markdown", "parser_for"]
