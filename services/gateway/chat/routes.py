"""``POST /v1/chat``: server-sent events by default, one JSON body with ``stream: false``.

Stages before generation run before the response starts, so their failures are ordinary HTTP
errors; once streaming, a failure is an ``error`` event that ends the stream.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from services.gateway.access.auth import AUTH_ERRORS, ChatCaller, metered
from services.gateway.chat.events import ErrorEvent
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.chat.schemas import ChatRequest, ChatResponse, ErrorBody
from services.gateway.http.disconnect import CLIENT_CLOSED, ClientDisconnected, unless_disconnected
from services.gateway.http.errors import check_length
from services.gateway.http.sse import event_frames, with_heartbeats

router = APIRouter()

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, *AUTH_ERRORS, 404, 413, 422, 500, 503)
}


class EventStreamResponse(StreamingResponse):
    """A streaming response that always closes its body iterator, whatever ended the stream.

    Starlette leaves the iterator open when the client disconnects on ASGI 2.4 servers; closing
    it here is what cancels the generation call upstream right away.
    """

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


@router.post(
    "/v1/chat",
    response_model=ChatResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "SSE or one JSON answer."},
        **_ERRORS,
    },
)
async def chat(body: ChatRequest, request: Request, caller: ChatCaller) -> Response:
    """Answer ``body.message`` from the indexed documents, with numbered sources."""
    pipeline: ChatPipeline = request.app.state.pipeline
    limit = pipeline.settings.max_message_chars
    check_length(body.message, limit, ("body", "message"))
    if not body.retrieval and caller.key is not None and not caller.key.allows("admin"):
        raise HTTPException(
            403, "retrieval: false (the no-retrieval baseline) needs the admin scope"
        )
    if body.adapter is not None and caller.key is not None and not caller.key.allows("admin"):
        raise HTTPException(403, "adapter (choosing the model that answers) needs the admin scope")
    try:
        prepared = await unless_disconnected(
            request, pipeline.prepare(body, owner=caller.owner), "prepare"
        )
        if not body.stream:
            result = await unless_disconnected(request, pipeline.collect(prepared), "generation")
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED)
    if not body.stream:
        if isinstance(result, ErrorEvent):
            return JSONResponse(result.body, status_code=result.status)
        await caller.charge(result.usage.prompt_tokens + result.usage.completion_tokens)
        return JSONResponse(result.model_dump(mode="json"))
    events = metered(pipeline.events(prepared), caller)
    frames = with_heartbeats(event_frames(events), pipeline.settings.heartbeat_s)
    return EventStreamResponse(frames, headers=SSE_HEADERS)
