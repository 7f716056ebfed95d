"""Parsers: one module per source format, each returning a :class:`ParsedDocument`.

:mod:`docentlib.documents.parsers.registry` maps file suffixes to them.
"""

from docentlib.documents.parsers.markdown import parse_markdown
from docentlib.documents.parsers.registry import PARSERS, SUFFIXES, parse_bytes, parser_for

__all__ = ["PARSERS", "SUFFIXES", "parse_bytes", "parse_markdown", "parser_for"]
