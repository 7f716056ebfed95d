"""Build the gateway's agent from settings over the chat pipeline's clients (one set per app)."""

from __future__ import annotations

from docentlib.agent.protocol import system_prompt
from services.gateway.agent.loop import Agent
from services.gateway.agent.settings import AgentSettings
from services.gateway.agent.tools.registry import ToolRegistry
from services.gateway.chat.output_guard import output_check
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.chat.safety import LeakDetector


def build_agent(settings: AgentSettings, pipeline: ChatPipeline) -> Agent | None:
    """The agent, or None when it is switched off; moderation follows the chat settings."""
    if not settings.enabled:
        return None
    gateway = pipeline.settings
    registry = ToolRegistry.from_settings(
        settings, pipeline.embedding, pipeline.retrieval, gateway.search_mode
    )
    # The output check looks for a leak of the agent's own instructions, not chat's.
    leak = LeakDetector(system_prompt(registry.specs), gateway.leak_span_words)
    check = output_check(pipeline.moderation, leak) if gateway.output_moderation else None
    return Agent(
        settings,
        pipeline.generation,
        pipeline.moderation,
        registry,
        check,
        domain=gateway.domain,
        check_observations=gateway.check_passages,
    )
