"""The OpenAI-compatible API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

It is the native pipeline behind another wire format: the client's messages become the
question (the last user message) and the history (the earlier user/assistant turns, which the
client holds, so nothing is stored); the answer carries ``[n]`` markers and the numbered sources
come in the extra ``sources`` field of the response and of the final chunk.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from docentlib.errors import NotFound
from services.gateway.access.auth import AUTH_ERRORS, ChatCaller, metered
from services.gateway.chat.events import ErrorEvent
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.chat.prompt import Message
from services.gateway.chat.routes import SSE_HEADERS, EventStreamResponse
from services.gateway.chat.schemas import ChatRequest
from services.gateway.http.disconnect import CLIENT_CLOSED, ClientDisconnected, unless_disconnected
from services.gateway.http.errors import check_length
from services.gateway.http.openapi import error_responses
from services.gateway.http.sse import with_heartbeats
from services.gateway.openai.format import Completion, completion_body, completion_frames
from services.gateway.openai.schemas import (
    MODEL_ID,
    ChatCompletion,
    ChatCompletionRequest,
    Model,
    ModelList,
)

router = APIRouter(tags=["openai"])

_STARTED = int(time.time())
_STREAM_DOC = (
    "With `stream: true`, server-sent events: `data: <chat.completion.chunk JSON>` frames, "
    "the finish chunk carrying `sources` and `docent`, then `data: [DONE]`."
)


class ModelNotFound(NotFound):
    code = "model_not_found"


def _model(model_id: str) -> Model:
    if model_id != MODEL_ID:
        raise ModelNotFound(f"model {model_id!r} does not exist; this server serves {MODEL_ID!r}")
    return Model(id=MODEL_ID, created=_STARTED)


@router.get("/v1/models", response_model=ModelList, responses=error_responses(*AUTH_ERRORS, 500))
async def list_models(caller: ChatCaller) -> ModelList:
    """The one model this server answers as: retrieval-augmented generation over the index."""
    return ModelList(data=[_model(MODEL_ID)])


@router.get(
    "/v1/models/{model_id}",
    response_model=Model,
    responses=error_responses(*AUTH_ERRORS, 404, 500),
)
async def get_model(model_id: str, caller: ChatCaller) -> Model:
    return _model(model_id)


def to_native(body: ChatCompletionRequest, max_chars: int) -> tuple[ChatRequest, list[Message]]:
    """The native request (question = last message) and the earlier turns as history."""
    last = len(body.messages) - 1
    question = body.messages[last].text().strip()
    check_length(question, max_chars, ("body", "messages", last, "content"))
    history: list[Message] = [
        (m.role, m.text()) for m in body.messages[:last] if m.role in ("user", "assistant")
    ]
    try:
        native = ChatRequest(
            message=question,
            stream=bool(body.stream),
            max_tokens=body.completion_budget(),
            temperature=body.temperature if body.temperature is not None else 0.0,
            top_p=body.top_p if body.top_p is not None else 1.0,
            repetition_penalty=body.repetition_penalty,
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    return native, history


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": _STREAM_DOC},
        **error_responses(400, *AUTH_ERRORS, 404, 413, 422, 500, 503),
    },
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, caller: ChatCaller
) -> Response:
    """Answer the last user message from the indexed documents, citing sources as [n]."""
    pipeline: ChatPipeline = request.app.state.pipeline
    _model(body.model)
    native, history = to_native(body, pipeline.settings.max_message_chars)
    completion = Completion(model=MODEL_ID)
    try:
        prepared = await unless_disconnected(
            request, pipeline.prepare(native, history, owner=caller.owner), "prepare"
        )
        if not body.stream:
            result = await unless_disconnected(request, pipeline.collect(prepared), "generation")
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED)
    if not body.stream:
        if isinstance(result, ErrorEvent):
            return JSONResponse(result.body, status_code=result.status)
        await caller.charge(result.usage.prompt_tokens + result.usage.completion_tokens)
        return JSONResponse(completion_body(completion, result))
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    events = metered(pipeline.events(prepared), caller)
    frames = completion_frames(events, completion, include_usage)
    return EventStreamResponse(
        with_heartbeats(frames, pipeline.settings.heartbeat_s), headers=SSE_HEADERS
    )
