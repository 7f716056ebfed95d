"""The tools of one gateway, built once from settings, and the checks before each call.

:meth:`ToolRegistry.call` is where every failure becomes an observation: an unknown tool, bad
arguments (validated against the tool's JSON schema), a timeout, an HTTP error. Nothing a
tool does can end the run with a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import jsonschema

from docentlib.agent.protocol import ToolSpec
from services.gateway.agent.settings import AgentSettings
from services.gateway.agent.tools.base import RunContext, Tool, ToolError, ToolResult
from services.gateway.agent.tools.calculator import CalculatorTool
from services.gateway.agent.tools.search_docs import SearchDocsTool
from services.gateway.agent.tools.weather import WeatherTool
from services.gateway.agent.tools.wikipedia import WikipediaTool
from services.runtime.clients import EmbeddingClient, RetrievalClient

log = logging.getLogger(__name__)


class ToolRegistry:
    """Usage::

    registry = ToolRegistry([CalculatorTool()])
    result = await registry.call("calculator", {"expression": "1 + 1"}, RunContext())
    """

    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = {t.spec.name: t for t in tools}
        self._validators = {
            name: jsonschema.Draft202012Validator(dict(t.spec.parameters))
            for name, t in self.tools.items()
        }

    @classmethod
    def from_settings(
        cls,
        settings: AgentSettings,
        embedding: EmbeddingClient,
        retrieval: RetrievalClient,
        search_mode: str = "hybrid",
    ) -> ToolRegistry:
        s = settings
        builders: dict[str, Any] = {
            "calculator": lambda: CalculatorTool(timeout_s=s.tool_timeout_s),
            "search_docs": lambda: SearchDocsTool(
                embedding, retrieval, s.search_k, search_mode, timeout_s=s.tool_timeout_s
            ),
            "wikipedia": lambda: WikipediaTool(
                s.wikipedia_url, s.tool_timeout_s, s.wikipedia_chars, s.user_agent
            ),
            "weather": lambda: WeatherTool(s.geocoding_url, s.forecast_url, s.tool_timeout_s),
        }
        return cls([builders[name]() for name in s.tools])

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools.values()]

    def check(self, name: str, arguments: dict[str, Any]) -> Tool:
        """The tool, once ``name`` is known and ``arguments`` fit its schema."""
        tool = self.tools.get(name)
        if tool is None:
            raise ToolError(
                f"unknown tool {name!r}; available: {', '.join(self.tools) or 'none'}",
                "unknown_tool",
            )
        errors = sorted(self._validators[name].iter_errors(arguments), key=lambda e: e.path)
        if errors:
            first = errors[0]
            where = ".".join(str(p) for p in first.path) or "arguments"
            raise ToolError(f"bad arguments for {name}: {where}: {first.message}", "bad_arguments")
        return tool

    async def call(self, name: str, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        """Run a tool under its timeout; every failure is a :class:`ToolError`."""
        tool = self.check(name, arguments)
        try:
            async with asyncio.timeout(tool.timeout_s):
                return await tool.run(arguments, context)
        except TimeoutError:
            raise ToolError(f"{name} timed out after {tool.timeout_s:g}s", "timeout") from None
        except ToolError:
            raise
        except Exception as exc:  # a tool bug must not end the run: the model is told
            log.exception("tool failed", extra={"tool": name})
            raise ToolError(f"{name} failed unexpectedly", "failed") from exc

    async def close(self) -> None:
        for tool in self.tools.values():
            await tool.close()
