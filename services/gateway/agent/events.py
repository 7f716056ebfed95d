"""Typed events of one agent run: ``thought``, ``action``, ``observation``, ``answer``, ``done``.

The SSE route frames them; the JSON route keeps only ``done``, which holds the whole trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway.agent.schemas import AgentDone


@dataclass(frozen=True)
class ThoughtEvent:
    step: int
    text: str
    name: str = "thought"

    def data(self) -> dict[str, Any]:
        return {"step": self.step, "text": self.text}


@dataclass(frozen=True)
class ActionEvent:
    step: int
    tool: str
    arguments: dict[str, Any]
    name: str = "action"

    def data(self) -> dict[str, Any]:
        return {"step": self.step, "tool": self.tool, "arguments": self.arguments}


@dataclass(frozen=True)
class ObservationEvent:
    step: int
    tool: str
    text: str
    error: str | None = None
    seconds: float = 0.0
    name: str = "observation"

    def data(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tool": self.tool,
            "text": self.text,
            "error": self.error,
            "seconds": round(self.seconds, 6),
        }


@dataclass(frozen=True)
class AnswerEvent:
    text: str
    tools_used: list[str]
    name: str = "answer"

    def data(self) -> dict[str, Any]:
        return {"text": self.text, "tools_used": self.tools_used}


@dataclass(frozen=True)
class AgentDoneEvent:
    done: AgentDone
    name: str = "done"

    def data(self) -> dict[str, Any]:
        return self.done.model_dump(mode="json")


@dataclass(frozen=True)
class AgentErrorEvent:
    """The run failed after the response started (the model's service went away)."""

    error: Exception
    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    name: str = "error"

    def data(self) -> dict[str, Any]:
        return self.body


AgentEvent = (
    ThoughtEvent | ActionEvent | ObservationEvent | AnswerEvent | AgentDoneEvent | AgentErrorEvent
)
