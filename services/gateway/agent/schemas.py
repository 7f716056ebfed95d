"""Request and response bodies of ``POST /v1/agent``; the SSE events carry the same shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.chat.schemas import Source, Usage


class AgentRequest(BaseModel):
    """Usage: ``AgentRequest(question="What is the temperature in the capital of France?")``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The user's question (stripped).")
    stream: bool = Field(True, description="Server-sent events when true, one JSON otherwise.")
    max_steps: int | None = Field(
        None, ge=1, le=20, description="Most tool calls (default: the gateway's setting)."
    )
    adapter: str | None = Field(
        None,
        max_length=64,
        description="LoRA adapter to act with (default: the gateway's setting; empty string: "
        "the base model).",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("question must not be blank")
        return stripped


class TraceStep(BaseModel):
    """One step of the trace: the model's thought and action, and what the tool returned."""

    step: int
    thought: str
    tool: str | None = Field(None, description="The tool called; none for the final answer.")
    arguments: dict[str, Any] | None = None
    observation: str | None = None
    error: str | None = Field(None, description="Error kind when the tool call failed.")
    generation_s: float = Field(description="Seconds the model took for this step.")
    tool_s: float | None = Field(None, description="Seconds the tool took.")


class AgentMetadata(BaseModel):
    stop_reason: str = Field(
        description="answer (the model answered), max_steps, repeated_action, token_budget, "
        "context_full (then a forced final answer), invalid_action, refused."
    )
    refused: bool = False
    flagged_categories: list[str] = Field(default_factory=list)
    moderation: str | None = Field(None, description='"input" or "output" when refused.')
    adapter: str = Field("", description="LoRA adapter that acted; empty: the base model.")
    constrained: bool = Field(description="Whether decoding was constrained to the action schema.")
    tool_errors: int = Field(0, description="Tool calls that came back as an error observation.")
    withheld_observations: int = Field(
        0, description="Observations withheld because they carried a prompt injection."
    )
    citation_mode: str = Field("none", description='"model", "attributed" or "none".')
    request_id: str | None = None


class AgentDone(BaseModel):
    """The payload of the SSE ``done`` event: the whole trace, usage and timings."""

    answer: str
    tools_used: list[str] = Field(description="Tools called, in order of first use.")
    citations: list[int] = Field(description="Source numbers cited by the answer.")
    sources: list[Source] = Field(description="Passages search_docs found, numbered.")
    steps: list[TraceStep]
    usage: Usage
    timings: dict[str, float] = Field(
        description="Seconds: generation and tools summed over steps, moderation, total."
    )
    metadata: AgentMetadata
