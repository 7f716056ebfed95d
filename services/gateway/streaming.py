"""Generation, the last stage: the only one that runs after the response has started.

So it never raises: a failure becomes an ``error`` event with the usual error body.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

from opentelemetry.trace import Status, StatusCode

from docent.v1 import generation_pb2
from docentlib.errors import DocentError
from services.gateway.errors import domain_error, internal_error
from services.gateway.events import DeltaEvent, ErrorEvent, PreparedChat
from services.gateway.schemas import Usage
from services.gateway.stages import record
from services.runtime.clients import GenerationClient
from services.runtime.tracing import tracer

_tracer = tracer("services.gateway")


async def stream_answer(
    generation: GenerationClient, chat: PreparedChat, parts: list[str]
) -> AsyncIterator[DeltaEvent | ErrorEvent]:
    """Stage 6: stream the model's text into ``parts`` as delta events, or end with an error.

    Leaving early (the client went away) closes the inner stream, which cancels the gRPC call so
    the generation server stops working on it.
    """
    start = time.perf_counter()
    span = _tracer.start_span("gateway.generation", context=chat.trace_context)
    stream = generation.generate(
        chat.messages, max_tokens=chat.max_tokens, temperature=chat.temperature, top_p=chat.top_p
    )
    try:
        async with aclosing(stream) as replies:
            async for reply in replies:
                if reply.text:
                    if not parts:
                        chat.timings["first_token"] = round(time.perf_counter() - start, 6)
                    parts.append(reply.text)
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
        is_domain = isinstance(exc, DocentError)
        status, body = domain_error(exc) if is_domain else internal_error(exc)
        yield ErrorEvent(exc, status, body)
    finally:
        record(chat.timings, "generation", time.perf_counter() - start)
        span.end()


def _finish_name(reason: int) -> str:
    """``FINISH_REASON_STOP`` -> ``stop``."""
    return generation_pb2.FinishReason.Name(reason).removeprefix("FINISH_REASON_").lower()
