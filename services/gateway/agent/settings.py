"""Settings of the agent (env prefix ``DOCENT_GATEWAY_AGENT_``), apart from chat's.

The web tools' base URLs default to the real public APIs; tests point them at local servers
that answer in the same documented formats.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOOL_NAMES = ("calculator", "search_docs", "wikipedia", "weather")


class AgentSettings(BaseSettings):
    """Usage::

    settings = AgentSettings(tools=["calculator", "weather"], max_steps=4)
    """

    model_config = SettingsConfigDict(env_prefix="DOCENT_GATEWAY_AGENT_", extra="ignore")

    enabled: bool = Field(True, description="Serve POST /v1/agent (404 when false).")
    tools: list[str] = Field(
        default_factory=lambda: list(TOOL_NAMES),
        description="Tools the agent may call (JSON list); leave one out to switch it off. "
        f"Known: {', '.join(TOOL_NAMES)}.",
    )
    max_steps: int = Field(6, ge=1, le=20, description="Most tool calls before a forced answer.")
    token_budget: int = Field(
        12_000,
        ge=256,
        description="Most prompt plus completion tokens over all steps of one run; when the "
        "next step would exceed it, the agent answers with what it has.",
    )
    step_max_tokens: int = Field(
        160, ge=16, le=1024, description="Completion budget of one step (thought + action)."
    )
    adapter: str = Field(
        "",
        description="LoRA adapter the generation service serves for the agent (e.g. agent); "
        "empty: the base model. A request may name another.",
    )
    constrained: bool = Field(
        True,
        description="Send the action JSON schema with every step so decoding can only produce "
        "a valid call (a registered tool and arguments by its schema) or an answer.",
    )
    observation_chars: int = Field(
        600, ge=50, description="Longest observation the model reads (longer ones are cut)."
    )
    tool_timeout_s: float = Field(5.0, gt=0, description="Deadline of one tool call.")
    search_k: int = Field(3, ge=1, le=20, description="search_docs: passages per search.")
    wikipedia_url: str = Field(
        "https://en.wikipedia.org/w/api.php", description="wikipedia: MediaWiki action API URL."
    )
    wikipedia_chars: int = Field(
        500, ge=50, description="wikipedia: longest extract returned (whole sentences)."
    )
    geocoding_url: str = Field(
        "https://geocoding-api.open-meteo.com/v1/search",
        description="weather: Open-Meteo geocoding search URL.",
    )
    forecast_url: str = Field(
        "https://api.open-meteo.com/v1/forecast", description="weather: Open-Meteo forecast URL."
    )
    user_agent: str = Field(
        "Docent-agent/0.1 (https://github.com/docent)",
        description="User-Agent of the web tools (Wikimedia asks every client to send one).",
    )

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TOOL_NAMES]
        if unknown:
            raise ValueError(f"unknown tool {unknown[0]!r}; known tools: {list(TOOL_NAMES)}")
        return list(dict.fromkeys(value))
