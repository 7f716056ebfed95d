"""The one interface every agent tool implements, and the errors a tool may report.

A tool has a :class:`~docentlib.agent.protocol.ToolSpec` (name, description, JSON schema of its
arguments), a timeout, and an async ``run`` that returns the observation text. Anything that
goes wrong is a :class:`ToolError` whose message the model reads as its observation and can
recover from; the registry validates arguments against the schema before ``run`` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from docentlib.agent.protocol import ToolSpec
from services.gateway.chat.schemas import Source


class ToolError(Exception):
    """A failure the model is told about; ``kind`` labels the error counter.

    Kinds: ``bad_arguments``, ``unknown_tool``, ``timeout``, ``http``, ``not_found``,
    ``unavailable``.
    """

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass
class ToolResult:
    """What a call returned: the observation text."""

    text: str


@dataclass
class RunContext:
    """What one agent run shares across its tool calls: the numbered sources found so far.

    ``search_docs`` numbers its passages after the ones already found, so ``[n]`` means the
    same passage in every observation and in the final answer.
    """

    sources: list[Source] = field(default_factory=list)


@runtime_checkable
class Tool(Protocol):
    """Usage::

    tool = CalculatorTool()
    result = await tool.run({"expression": "2 * 21"}, RunContext())  # ToolResult("42")
    """

    spec: ToolSpec
    timeout_s: float

    async def run(self, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        """The observation for ``arguments`` (already valid by ``spec.parameters``)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
