"""Undo the disguises attackers put on text before the rules and the embeddings look at it.

Zero-width characters split trigger words ("ig\u200bnore"), leetspeak swaps letters for digits
("1gn0r3"), and payloads hide in base64 or hex. :func:`views` returns the text as written plus
each decoded reading, and says which disguises it found: a disguise is itself evidence.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field

# Format characters that render as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[013457@$])[\w@$]{3,}\b", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){8,}\b")
_MIN_PRINTABLE = 0.9


@dataclass(frozen=True)
class Views:
    """Readings of one text; ``texts[0]`` is the NFKC-normalised text without invisibles."""

    texts: list[str]
    disguises: list[str] = field(default_factory=list)  # zero_width, leetspeak, base64, hex


def _printable(raw: bytes) -> str | None:
    """``raw`` as text when it is mostly printable ASCII words, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or " " not in text.strip():
        return None
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\t")
    return text if good / len(text) >= _MIN_PRINTABLE else None


def _decoded(text: str) -> list[tuple[str, str]]:
    """(kind, decoded text) for every base64 or hex run that decodes to readable words."""
    found: list[tuple[str, str]] = []
    for match in _HEX.finditer(text):
        decoded = _printable(binascii.unhexlify(match.group()))
        if decoded:
            found.append(("hex", decoded))
    for match in _BASE64.finditer(text):
        token = match.group()
        if re.fullmatch(r"[0-9a-fA-F]+", token):
            continue  # already read as hex
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _printable(raw)
        if decoded:
            found.append(("base64", decoded))
    return found


def views(text: str) -> Views:
    """The text cleaned of invisibles, its de-leeted reading, and decoded payloads."""
    disguises: list[str] = []
    clean = unicodedata.normalize("NFKC", text)
    if _INVISIBLE.search(clean):
        disguises.append("zero_width")
        clean = _INVISIBLE.sub("", clean)
    texts = [clean]
    leet_words = _LEET_WORD.findall(clean)
    if leet_words and not all(w.isdigit() for w in leet_words):
        readable = _LEET_WORD.sub(lambda m: m.group().translate(_LEET), clean)
        if readable != clean:
            disguises.append("leetspeak")
            texts.append(readable)
    for kind, decoded in _decoded(clean):
        disguises.append(kind)
        texts.append(decoded)
    return Views(texts, disguises)
