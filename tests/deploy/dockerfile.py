"""A small Dockerfile reader: instructions with continuations joined, stages split by FROM,
``${ARG}`` in FROM resolved from the global ARG defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str  # the image after ARG substitution
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; comments dropped, ``\\`` continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def stages(path: Path) -> list[Stage]:
    """Build stages in order; the last one is the image that ships."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for keyword, rest in instructions(path):
        if keyword == "ARG" and not result and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
        elif keyword == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(image, name))
        elif result:
            result[-1].instructions.append((keyword, rest))
    return result
