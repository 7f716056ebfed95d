"""Generation, the last stage: the only one that runs after the response has started.

So it never raises: a failure becomes an ``error`` event with the usual error body. It is timed
and traced by the chat's stage clock like every other stage.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING

from opentelemetry.trace import Status, StatusCode

from docent.v1 import generation_pb2
from docentlib.errors import DocentError
from services.gateway.chat.events import DeltaEvent, ErrorEvent
from services.gateway.chat.schemas import Usage
from services.gateway.http.errors import domain_error, internal_error
from services.runtime.clients import GenerationClient

if TYPE_CHECKING:
    from services.gateway.chat.prepared import PreparedChat


async def stream_answer(
    generation: GenerationClient, chat: PreparedChat
) -> AsyncGenerator[DeltaEvent | ErrorEvent, None]:
    """Stream the model's text as delta events, or end with an error.

    Leaving early (the client went away) closes the inner stream, which cancels the gRPC call so
    the generation server stops working on it.
    """
    start, first = time.perf_counter(), True
    stream = generation.generate(
        chat.messages,
        max_tokens=chat.max_tokens,
        temperature=chat.temperature,
        top_p=chat.top_p,
        repetition_penalty=chat.repetition_penalty,
        no_repeat_ngram_size=chat.no_repeat_ngram_size,
        adapter=chat.adapter,
    )
    with chat.clock.stage("generation", parent=chat.trace_context) as span:
        try:
            async with aclosing(stream) as replies:
                async for reply in replies:
                    if reply.text:
                        if first:
                            chat.clock.note("first_token", time.perf_counter() - start)
                            first = False
                        yield DeltaEvent(reply.text)
                    if reply.finish_reason:
                        chat.metadata.finish_reason = _finish_name(reply.finish_reason)
                    if reply.HasField("usage"):
                        chat.usage = Usage(
                            prompt_tokens=reply.usage.prompt_tokens,
                            completion_tokens=reply.usage.completion_tokens,
                        )
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            if isinstance(exc, DocentError):
                status, body = domain_error(exc)
            else:
                status, body = internal_error(exc)
            yield ErrorEvent(exc, status, body)


def _finish_name(reason: int) -> str:
    """``FINISH_REASON_STOP`` -> ``stop``."""
    return generation_pb2.FinishReason.Name(reason).removeprefix("FINISH_REASON_").lower()
