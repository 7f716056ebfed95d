"""Turn the pipeline's typed events into OpenAI's wire format, to the chunk.

Streamed: one ``chat.completion.chunk`` with ``delta.role`` first, one per text delta, one with
``finish_reason`` that also carries ``sources`` and ``docent``; with
``stream_options.include_usage`` every chunk has ``"usage": null`` and a last chunk with no
choices carries the usage (and the sources again, as the final chunk); then ``data: [DONE]``.
A failure after the stream started is sent as ``data: {"error": {...}}`` and the stream ends
without ``[DONE]``, which OpenAI clients raise as an error. When output moderation stops an
answer, the refusal follows as one more content chunk (chunks cannot take back text already
sent; ``docent.metadata.moderation == "output"`` on the final chunk tells a client to replace
what it showed), and the final chunk has ``finish_reason: "content_filter"``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from services.gateway.chat.events import (
    ChatEvent,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    ModerationEvent,
    SourcesEvent,
)
from services.gateway.chat.schemas import ChatMetadata, ChatResponse, DoneData, Source, Usage
from services.gateway.http.errors import internal_error
from services.gateway.openai.schemas import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    CompletionUsage,
    DocentExtra,
    FinishReason,
)

DONE_FRAME = b"data: [DONE]\n\n"


def finish_reason(metadata: ChatMetadata) -> FinishReason:
    """``content_filter`` for a refused message (or an answer cut off by output moderation),
    ``length`` when max_tokens cut it, else stop."""
    if metadata.refused:
        return "content_filter"
    return "length" if metadata.finish_reason == "length" else "stop"


def usage_of(usage: Usage) -> CompletionUsage:
    return CompletionUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.prompt_tokens + usage.completion_tokens,
    )


def extra_of(done: DoneData) -> DocentExtra:
    return DocentExtra(citations=done.citations, timings=done.timings, metadata=done.metadata)


@dataclass(frozen=True)
class Completion:
    """Identity shared by every chunk of one answer."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))


def completion_body(completion: Completion, response: ChatResponse) -> dict[str, Any]:
    """The ``chat.completion`` object of a whole answer."""
    body = ChatCompletion(
        id=completion.id,
        created=completion.created,
        model=completion.model,
        choices=[
            Choice(
                message=AssistantMessage(content=response.answer),
                finish_reason=finish_reason(response.metadata),
            )
        ],
        usage=usage_of(response.usage),
        sources=response.sources,
        docent=extra_of(response),
    )
    return body.model_dump(mode="json")


def data_frame(payload: dict[str, Any]) -> bytes:
    """``data: <one line of JSON>``; json.dumps escapes every line break inside strings."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class ChunkWriter:
    """Builds the chunk dicts of one streamed answer."""

    def __init__(self, completion: Completion, include_usage: bool) -> None:
        self.completion = completion
        self.include_usage = include_usage

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        c = self.completion
        body: dict[str, Any] = {
            "id": c.id,
            "object": "chat.completion.chunk",
            "created": c.created,
            "model": c.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = None
        body.update(extra)
        return body

    @staticmethod
    def choice(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}

    def role(self) -> dict[str, Any]:
        return self.chunk([self.choice({"role": "assistant", "content": ""})])

    def content(self, text: str) -> dict[str, Any]:
        return self.chunk([self.choice({"content": text})])

    def final(self, done: DoneData, sources: list[Source]) -> list[dict[str, Any]]:
        """The finish chunk and, with include_usage, the usage chunk."""
        extra = {
            "sources": [s.model_dump(mode="json") for s in sources],
            "docent": extra_of(done).model_dump(mode="json"),
        }
        chunks = [self.chunk([self.choice({}, finish_reason(done.metadata))], **extra)]
        if self.include_usage:
            usage = usage_of(done.usage).model_dump()
            chunks.append(self.chunk([], **{**extra, "usage": usage}))
        return chunks


async def completion_frames(
    events: AsyncIterator[ChatEvent], completion: Completion, include_usage: bool
) -> AsyncIterator[bytes]:
    """SSE ``data:`` frames of the pipeline's events; closing this closes (cancels) them."""
    writer = ChunkWriter(completion, include_usage)
    sources: list[Source] = []
    async with aclosing(events) as source:
        try:
            async for event in source:
                if isinstance(event, SourcesEvent):
                    sources = event.sources
                    yield data_frame(writer.role())
                elif isinstance(event, DeltaEvent):
                    yield data_frame(writer.content(event.text))
                elif isinstance(event, ModerationEvent):
                    yield data_frame(writer.content(event.refusal))
                elif isinstance(event, ErrorEvent):
                    yield data_frame(event.body)
                    return
                elif isinstance(event, DoneEvent):
                    for chunk in writer.final(event.done, sources):
                        yield data_frame(chunk)
            yield DONE_FRAME
        except Exception as exc:
            _, body = internal_error(exc)
            yield data_frame(body)
