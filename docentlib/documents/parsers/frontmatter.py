"""Front matter: the YAML (``---``) or TOML (``+++``) block at the top of a Hugo page."""

from __future__ import annotations

import re
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when present
_CLOSERS = {"---": ("---", "..."), "+++": ("+++",)}
_TITLE_LINE = re.compile(r"""^title\s*[:=]\s*(["']?)(.*?)\1\s*$""", re.MULTILINE)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (metadata, body); no front matter, or an unclosed one, gives ({}, text).

    Metadata that fails to parse still yields its ``title:`` line, because a page with a
    sloppy header is still worth indexing under its real title.
    """
    first_newline = text.find("\n")
    opener = (text if first_newline == -1 else text[:first_newline]).strip()
    if opener not in _CLOSERS:
        return {}, text
    pos = first_newline + 1
    while first_newline != -1 and pos <= len(text):
        newline = text.find("\n", pos)
        end = len(text) if newline == -1 else newline
        if text[pos:end].strip() in _CLOSERS[opener]:
            header = text[first_newline + 1 : pos]
            body = "" if newline == -1 else text[newline + 1 :]
            return _parse(header, opener), body
        if newline == -1:
            break
        pos = newline + 1
    return {}, text


def _parse(header: str, opener: str) -> dict[str, Any]:
    if opener == "---":
        try:
            data = yaml.load(header, Loader=_LOADER)
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict):
            return data
    match = _TITLE_LINE.search(header)
    return {"title": match.group(2)} if match else {}
