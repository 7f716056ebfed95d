"""Typed events of one chat.

The pipeline yields these; the SSE route frames them and the JSON route folds them into one
:class:`ChatResponse`, so both transports carry exactly the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway.chat.schemas import DoneData, Source


@dataclass(frozen=True)
class SourcesEvent:
    """First event: the numbered sources the answer may cite."""

    sources: list[Source]
    name: str = "sources"

    def data(self) -> dict[str, Any]:
        return {"sources": [s.model_dump(mode="json") for s in self.sources]}


@dataclass(frozen=True)
class DeltaEvent:
    """New answer text."""

    text: str
    name: str = "delta"

    def data(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class DoneEvent:
    """Last event of a successful answer; ``answer`` is kept for the JSON route."""

    done: DoneData
    answer: str
    name: str = "done"

    def data(self) -> dict[str, Any]:
        return self.done.model_dump(mode="json")


@dataclass(frozen=True)
class ErrorEvent:
    """Last event when generation failed after the response started.

    ``status`` is what the JSON route answers with; ``body`` is the usual error body.
    """

    error: Exception
    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    name: str = "error"

    def data(self) -> dict[str, Any]:
        return self.body


@dataclass(frozen=True)
class ModerationEvent:
    """Output moderation stopped the answer: the text so far is to be replaced by ``refusal``.

    ``withheld`` is the text that failed the check; it never leaves the gateway.
    """

    categories: list[str]
    withheld: str = ""
    refusal: str = ""
    name: str = "moderation"

    def data(self) -> dict[str, Any]:
        return {"categories": self.categories, "action": "replace", "text": self.refusal}


ChatEvent = SourcesEvent | DeltaEvent | DoneEvent | ErrorEvent | ModerationEvent
