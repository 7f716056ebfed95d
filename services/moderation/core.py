"""The moderation decision: scores per category against thresholds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from services.moderation.backends.base import ToxicityBackend
from services.moderation.settings import ModerationSettings
from services.runtime.errors import InvalidInput


class Direction(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True)
class CategoryResult:
    category: str
    score: float
    threshold: float

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    categories: tuple[CategoryResult, ...]

    @property
    def reason(self) -> str:
        flagged = [c.category for c in self.categories if c.flagged]
        return f"flagged: {', '.join(flagged)}" if flagged else ""


def _profanity_check() -> ToxicityBackend:
    from services.moderation.backends.profanity_check import ProfanityCheckBackend

    return ProfanityCheckBackend()


BACKENDS: dict[str, Callable[[], ToxicityBackend]] = {"profanity-check": _profanity_check}


def build_backend(name: str) -> ToxicityBackend:
    """The toxicity backend called ``name`` (validated against the registry)."""
    if name not in BACKENDS:
        raise InvalidInput(f"unknown toxicity backend {name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[name]()


class Moderator:
    """Decides whether a text may pass.

    Usage::

        moderator = Moderator(ModerationSettings(), build_backend("profanity-check"))
        moderator.check("How do I roll back a Deployment?", Direction.INPUT).allowed  # True
    """

    def __init__(self, settings: ModerationSettings, toxicity: ToxicityBackend) -> None:
        self.settings = settings
        self.toxicity = toxicity

    def check(self, text: str, direction: Direction) -> Verdict:
        if len(text) > self.settings.max_text_chars:
            raise InvalidInput(
                f"text has {len(text)} characters; limit {self.settings.max_text_chars}"
            )
        if not text.strip():
            return Verdict(allowed=True, categories=())
        scores = self.toxicity.score([text])[0]
        categories = tuple(
            CategoryResult(name, score, self.settings.toxicity_threshold)
            for name, score in sorted(scores.items())
        )
        return Verdict(allowed=not any(c.flagged for c in categories), categories=categories)
