"""Fenced code block tracking, shared by the parser and the chunker.

Both must agree on what is code: a ``# comment`` inside a fence is not a heading, a blank line
inside a fence is not a paragraph break, and an HTML comment inside a fence is content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Any indentation is accepted: the Kubernetes docs nest fences in list items with 2-8 spaces.
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")


class FenceTracker:
    """Feed lines in order; tells whether each one belongs to a fenced code block."""

    def __init__(self) -> None:
        self._fence: str | None = None  # the opening run, e.g. "```" or "~~~~"

    @property
    def inside(self) -> bool:
        """True while a fence is open (after its opening line, before its closing line)."""
        return self._fence is not None

    def update(self, line: str) -> bool:
        """Consume one line (no newline); True when it is a fence line or inside a fence."""
        if self._fence is None:
            match = _FENCE_OPEN.match(line)
            if match is None:
                return False
            run, info = match.group(1), match.group(2)
            if run[0] == "`" and "`" in info:  # ```inline``` code, not a fence (CommonMark)
                return False
            self._fence = run
            return True
        stripped = line.strip()
        fence = self._fence
        if len(stripped) >= len(fence) and stripped == fence[0] * len(stripped):
            self._fence = None
        return True


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a text: ``text[start:end]`` (newline excluded) and whether it is code."""

    start: int
    end: int
    code: bool
    blank: bool


def scan_lines(text: str) -> list[Line]:
    """Split ``text`` into lines with their offsets and code-fence state."""
    lines: list[Line] = []
    tracker = FenceTracker()
    pos, size = 0, len(text)
    while True:
        newline = text.find("\n", pos)
        end = size if newline == -1 else newline
        raw = text[pos:end]
        lines.append(Line(pos, end, tracker.update(raw), not raw.strip()))
        if newline == -1:
            return lines
        pos = newline + 1
