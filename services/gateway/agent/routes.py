"""``POST /v1/agent``: the agent's steps as server-sent events, or the whole trace as one JSON.

Same keys, scopes and rate limits as chat (the ``chat`` scope; the run's tokens are charged
when it ends), and the same input moderation, which runs before the response starts.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from docentlib.errors import NotFound
from services.gateway.access.auth import AUTH_ERRORS, Caller, ChatCaller
from services.gateway.agent.events import AgentDoneEvent, AgentErrorEvent
from services.gateway.agent.loop import Agent, Events
from services.gateway.agent.schemas import AgentDone, AgentRequest
from services.gateway.chat.routes import SSE_HEADERS, EventStreamResponse
from services.gateway.chat.schemas import ErrorBody
from services.gateway.http.disconnect import CLIENT_CLOSED, ClientDisconnected, unless_disconnected
from services.gateway.http.errors import check_length
from services.gateway.http.sse import event_frames, with_heartbeats

router = APIRouter(tags=["agent"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, *AUTH_ERRORS, 404, 413, 422, 500, 503)
}


class AgentDisabled(NotFound):
    code = "agent_disabled"


async def charged(events: Events, caller: Caller) -> Events:
    """Pass ``events`` through, charging the run's tokens to the caller's key at ``done``."""
    async with aclosing(events) as source:
        async for event in source:
            if isinstance(event, AgentDoneEvent):
                usage = event.done.usage
                await caller.charge(usage.prompt_tokens + usage.completion_tokens)
            yield event


async def collect(events: Events) -> AgentDone | AgentErrorEvent:
    async with aclosing(events) as source:
        async for event in source:
            if isinstance(event, AgentDoneEvent):
                return event.done
            if isinstance(event, AgentErrorEvent):
                return event
    raise RuntimeError("the agent's events ended without done or error")


@router.post(
    "/v1/agent",
    response_model=AgentDone,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "SSE (thought, action, observation, answer, done) or one JSON trace.",
        },
        **_ERRORS,
    },
)
async def agent(body: AgentRequest, request: Request, caller: ChatCaller) -> Response:
    """Answer ``body.question`` by reasoning and calling tools in a loop."""
    runner: Agent | None = getattr(request.app.state, "agent", None)
    if runner is None:
        raise AgentDisabled("the agent is switched off (DOCENT_GATEWAY_AGENT_ENABLED=false)")
    limit = request.app.state.settings.max_message_chars
    check_length(body.question, limit, ("body", "question"))
    try:
        run = await unless_disconnected(request, runner.start(body), "agent_start")
        events = charged(runner.events(run), caller)
        if not body.stream:
            result = await unless_disconnected(request, collect(events), "agent")
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED)
    if not body.stream:
        if isinstance(result, AgentErrorEvent):
            return JSONResponse(result.body, status_code=result.status)
        return JSONResponse(result.model_dump(mode="json"))
    heartbeat = request.app.state.settings.heartbeat_s
    frames = with_heartbeats(event_frames(events), heartbeat)
    return EventStreamResponse(frames, headers=SSE_HEADERS)
