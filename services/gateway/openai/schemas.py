"""Bodies of the OpenAI-compatible API (``/v1/chat/completions``, ``/v1/models``).

Field names and shapes follow OpenAI's Chat Completions API so unchanged OpenAI clients work;
what Docent adds (the numbered ``sources`` and a ``docent`` object with citations, timings and
metadata) goes in extra top-level fields, which those clients keep and ignore. Parameters
Docent cannot honour (tools, logprobs, n > 1, ...) are refused with a 422 naming them rather
than silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.gateway.chat.schemas import ChatMetadata, Source

MODEL_ID = "docent"
MAX_MESSAGES = 64
MAX_CONTENT_CHARS = 32_000
MAX_PARTS = 64
MAX_COMPLETION_TOKENS = 1024


def valid_text(value: str) -> str:
    """Refuse text that cannot be sent on (lone surrogates are not encodable as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


class TextPart(BaseModel):
    """One part of a multi-part content array; only text parts are understood."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: Annotated[str, Field(max_length=MAX_CONTENT_CHARS)]

    @field_validator("text")
    @classmethod
    def _valid(cls, value: str) -> str:
        return valid_text(value)


class ChatMessageIn(BaseModel):
    """A message of the conversation as the client holds it."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] = Field(
        description=f"Text, or text parts; at most {MAX_CONTENT_CHARS} characters in all."
    )
    name: str | None = Field(None, max_length=64)

    @field_validator("content")
    @classmethod
    def _valid(cls, value: str | list[TextPart]) -> str | list[TextPart]:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_PARTS:
            raise ValueError(f"content must have 1 to {MAX_PARTS} parts")
        text = value if isinstance(value, str) else "".join(p.text for p in value)
        if len(text) > MAX_CONTENT_CHARS:
            raise ValueError(f"content must have at most {MAX_CONTENT_CHARS} characters")
        return valid_text(value) if isinstance(value, str) else value

    def text(self) -> str:
        """The content as one string (text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = Field(False, description="Send a last chunk with the usage.")


class ChatCompletionRequest(BaseModel):
    """Usage: ``ChatCompletionRequest(model="docent", messages=[{"role": "user", ...}])``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200, description=f'"{MODEL_ID}".')
    messages: list[ChatMessageIn] = Field(
        min_length=1,
        max_length=MAX_MESSAGES,
        description="The conversation; the last message is the user's question. System and "
        "developer messages are accepted but Docent's own system prompt is used.",
    )
    stream: bool | None = Field(False, description="Server-sent chunks when true.")
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, strict=True, ge=1, le=MAX_COMPLETION_TOKENS)
    max_completion_tokens: int | None = Field(None, strict=True, ge=1, le=MAX_COMPLETION_TOKENS)
    temperature: float | None = Field(
        None, strict=True, ge=0.0, le=2.0, description="Default 0 (greedy)."
    )
    top_p: float | None = Field(None, strict=True, gt=0.0, le=1.0, description="Default 1.")
    repetition_penalty: float | None = Field(
        None,
        strict=True,
        ge=1.0,
        le=2.0,
        description="vLLM's extra parameter: penalty on tokens already generated (1: off); "
        "default: the generation engine's.",
    )
    n: int | None = Field(None, strict=True, ge=1, le=1, description="Only one choice is produced.")
    user: str | None = Field(None, max_length=256)

    @field_validator("messages")
    @classmethod
    def _ends_with_a_question(cls, messages: list[ChatMessageIn]) -> list[ChatMessageIn]:
        if messages[-1].role != "user":
            raise ValueError("the last message must have role 'user'")
        if not messages[-1].text().strip():
            raise ValueError("the last message must not be blank")
        return messages

    @model_validator(mode="after")
    def _stream_options_need_stream(self) -> ChatCompletionRequest:
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed when stream is true")
        return self

    def completion_budget(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: str | None = None


FinishReason = Literal["stop", "length", "content_filter"]


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class DocentExtra(BaseModel):
    """What Docent adds to an OpenAI answer, besides the sources."""

    citations: list[int] = Field(description="Source numbers cited as [n], in order.")
    timings: dict[str, float] = Field(description="Seconds per stage, plus total.")
    metadata: ChatMetadata


class ChatCompletion(BaseModel):
    """The non-streamed answer (``object: chat.completion``)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[Choice]
    usage: CompletionUsage
    sources: list[Source] = Field(description="The numbered passages [n] refers to.")
    docent: DocentExtra


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: FinishReason | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One streamed chunk; the one with ``finish_reason`` also carries sources and docent."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    sources: list[Source] | None = None
    docent: DocentExtra | None = None


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "docent"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]
