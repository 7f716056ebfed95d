"""Rules for the exact syntactic tricks of prompt injection, each with the score a match gives.

Only syntax is matched here: chat-template tokens of common model families, fake role headers,
fake end-of-context markers, tags that would close our ``<source>`` blocks, and instructions
hidden in HTML comments. What a message *means* (override, personas, extraction, planted
instructions) is the safety classifier's job (:mod:`docentlib.safety_classifier`), which
generalises to phrasings no rule lists. Encoding tricks are undone by
:mod:`services.moderation.normalize`: the rules run on every decoded reading, and a rule that
matches only a disguised reading scores higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_F = re.IGNORECASE | re.DOTALL


@dataclass(frozen=True)
class Rule:
    family: str
    pattern: re.Pattern[str]
    score: float


def _rule(family: str, score: float, pattern: str) -> Rule:
    return Rule(family, re.compile(pattern, _F), score)


RULES: tuple[Rule, ...] = (
    # delimiter tricks
    _rule(
        "delimiter",
        0.95,
        r"(<\|(im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|\[/?INST\]"
        r"|<</?SYS>>|<start_of_turn>|</?s>\s*\[)",
    ),
    _rule(
        "delimiter",
        0.85,
        r"(^|\n|[.!?]\s)\s*(#{1,6}\s*)?(system|assistant|developer|admin(istrator)?)\s*(message|"
        r"prompt|note)?\s*:\s+\S",
    ),
    _rule(
        "delimiter",
        0.85,
        r"(-{3,}|={3,}|#{3,}|\*{3,})\s*(end|new|begin|start)\b.{0,30}\b(context|instructions|"
        r"prompt|sources|documents|system)",
    ),
    _rule("delimiter", 0.8, r"</?(sources?|context|documents?|system|instructions)>"),
    _rule("delimiter", 0.75, r"<!--.{0,80}\b(ignore|assistant|system|instructions?)\b"),
)


def match(text: str) -> list[tuple[str, float]]:
    """(family, score) of every rule matching ``text``."""
    return [(r.family, r.score) for r in RULES if r.pattern.search(text)]
