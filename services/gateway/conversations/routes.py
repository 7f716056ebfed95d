"""Conversations: create, read, list, delete; each key sees only its own (others get 404)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.access.auth import AUTH_ERRORS, ChatCaller
from services.gateway.chat.schemas import CONVERSATION_ID_PATTERN, ErrorBody
from services.gateway.conversations.store import Conversation, ConversationInfo, ConversationStore

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (*AUTH_ERRORS, 404, 422, 500)
}
ConversationId = Annotated[str, Path(pattern=CONVERSATION_ID_PATTERN)]


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=200, description="Shown in conversation lists.")


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: float = Field(description="Unix seconds.")
    updated_at: float
    expires_at: float = Field(description="When it expires unless continued (Unix seconds).")
    turns: int = Field(description="Messages so far (a question and its answer are two).")

    @classmethod
    def of(cls, info: ConversationInfo) -> ConversationSummary:
        return cls(**info.__dict__)


class TurnOut(BaseModel):
    role: str
    content: str
    created_at: float
    sources: list[dict[str, Any]] | None = Field(
        None, description="An answer's numbered passages ({n, title, source_path, text})."
    )


class ConversationOut(ConversationSummary):
    messages: list[TurnOut]

    @classmethod
    def full(cls, conversation: Conversation) -> ConversationOut:
        return cls(
            **conversation.info.__dict__,
            messages=[TurnOut(**t.__dict__) for t in conversation.turns],
        )


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


def _store(request: Request) -> ConversationStore:
    return request.app.state.pipeline.store


@router.post("", status_code=201, response_model=ConversationSummary, responses=_ERRORS)
async def create_conversation(
    request: Request, caller: ChatCaller, body: CreateConversation | None = None
) -> ConversationSummary:
    """An empty conversation; pass its id as ``conversation_id`` to ``POST /v1/chat``."""
    title = body.title if body else ""
    info = await asyncio.to_thread(_store(request).create, caller.owner, title)
    return ConversationSummary.of(info)


@router.get("", response_model=ConversationList, responses=_ERRORS)
async def list_conversations(
    request: Request, caller: ChatCaller, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> ConversationList:
    """The caller's live conversations, most recently used first."""
    infos = await asyncio.to_thread(_store(request).list, caller.owner, limit)
    return ConversationList(conversations=[ConversationSummary.of(i) for i in infos])


@router.get("/{conversation_id}", response_model=ConversationOut, responses=_ERRORS)
async def read_conversation(
    request: Request,
    caller: ChatCaller,
    conversation_id: ConversationId,
) -> ConversationOut:
    """Every message of one conversation, oldest first."""
    conversation = await asyncio.to_thread(_store(request).get, conversation_id, caller.owner)
    return ConversationOut.full(conversation)


@router.delete("/{conversation_id}", status_code=204, responses=_ERRORS)
async def delete_conversation(
    request: Request,
    caller: ChatCaller,
    conversation_id: ConversationId,
) -> Response:
    """Forget the conversation and all its messages."""
    await asyncio.to_thread(_store(request).delete, conversation_id, caller.owner)
    return Response(status_code=204)
