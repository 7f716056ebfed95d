"""Conversations: what a store must do, and the one this gateway uses (chosen by settings).

Every call names the ``owner`` (the API key id, or ``anonymous`` when auth is off): a
conversation that belongs to someone else, or that has expired, is :class:`NotFound`, so another
key cannot even learn that it exists. Stores are synchronous (SQLite, redis-py); the gateway calls
them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from docentlib.errors import InvalidInput, NotFound
from docentlib.registry import Registry

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

ROLES = ("user", "assistant")
ANONYMOUS = "anonymous"
TITLE_CHARS = 80


def new_conversation_id() -> str:
    """``conv_`` and 32 hex digits (the pattern :class:`ChatRequest` accepts)."""
    return f"conv_{uuid.uuid4().hex}"


def title_of(question: str) -> str:
    """A conversation's title: its first question, on one line, cut at :data:`TITLE_CHARS`."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def check_roles(turns: list[tuple[str, str]]) -> None:
    for role, _ in turns:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {ROLES}, got {role!r}")


def not_found(conversation_id: str) -> NotFound:
    return NotFound(f"conversation {conversation_id} not found")


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    created_at: float
    # The answer's numbered passages ({n, title, source_path, text}), kept so that a reviewer
    # can judge a stored answer against what the model read; None for questions and old turns.
    sources: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Exchange:
    """One stored question and its answer, as human review samples them (any owner's)."""

    conversation_id: str
    owner: str
    index: int  # 0 for the conversation's first exchange
    question: str
    answer: str
    sources: list[dict[str, Any]] | None
    created_at: float


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    title: str
    created_at: float
    updated_at: float
    expires_at: float
    turns: int


@dataclass(frozen=True)
class Conversation:
    info: ConversationInfo
    turns: list[Turn] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.id


class ConversationStore(Protocol):
    """Usage::

    store = open_conversation_store(settings)
    conv = store.create("key_1").id
    store.append_exchange(conv, "key_1", "What is a Pod?", "The smallest deployable unit [1].")
    store.recent(conv, "key_1", 4)  # [("user", ...), ("assistant", ...)]
    """

    def create(self, owner: str, title: str = "") -> ConversationInfo:
        """A new, empty conversation of ``owner``."""
        ...

    def get(self, conversation_id: str, owner: str) -> Conversation:
        """The whole conversation; :class:`NotFound` if missing, expired or not ``owner``'s."""
        ...

    def list(self, owner: str, limit: int = 50) -> builtins.list[ConversationInfo]:
        """``owner``'s live conversations, most recently updated first."""
        ...

    def delete(self, conversation_id: str, owner: str) -> None:
        """Remove it and its turns; :class:`NotFound` as for :meth:`get`."""
        ...

    def recent(
        self, conversation_id: str, owner: str, exchanges: int
    ) -> builtins.list[tuple[str, str]]:
        """The last ``exchanges`` user/assistant pairs, oldest first, starting with a user turn."""
        ...

    def user_turns(self, conversation_id: str, owner: str, limit: int) -> builtins.list[str]:
        """The last ``limit`` user questions, oldest first (what a follow-up may refer to)."""
        ...

    def append_exchange(
        self,
        conversation_id: str,
        owner: str,
        question: str,
        answer: str,
        sources: builtins.list[dict[str, Any]] | None = None,
    ) -> None:
        """Record a question and its answer (with the answer's sources) atomically, creating
        the conversation if new.

        Refreshes the expiry; :class:`NotFound` if the id belongs to another owner.
        """
        ...

    def exchanges(self, limit: int) -> builtins.list[Exchange]:
        """Up to ``limit`` live exchanges of every owner, newest first (for human review)."""
        ...

    def close(self) -> None: ...


def pair_exchanges(
    conversation_id: str, owner: str, turns: builtins.list[Turn]
) -> builtins.list[Exchange]:
    """The (question, answer) pairs of one conversation's turns, oldest first."""
    found: builtins.list[Exchange] = []
    for i in range(len(turns) - 1):
        question, answer = turns[i], turns[i + 1]
        if question.role == "user" and answer.role == "assistant":
            found.append(
                Exchange(
                    conversation_id,
                    owner,
                    len(found),
                    question.content,
                    answer.content,
                    answer.sources,
                    answer.created_at,
                )
            )
    return found


def trim_to_user_start(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop leading assistant turns so history always opens with a question."""
    while turns and turns[0][0] != "user":
        turns = turns[1:]
    return turns


_HERE = "services.gateway.conversations"
# Chosen once, at start-up, by ``settings.store``; each store builds itself from the settings.
CONVERSATION_STORES: Registry[Callable[[GatewaySettings], ConversationStore]] = Registry(
    "conversation store",
    {
        "sqlite": f"{_HERE}.sqlite_store:SqliteConversationStore.from_settings",
        "redis": f"{_HERE}.redis_store:RedisConversationStore.from_settings",
    },
)


def open_conversation_store(settings: GatewaySettings) -> ConversationStore:
    """SQLite under ``data_dir`` by default; Redis (shared by replicas) when ``store=redis``."""
    return CONVERSATION_STORES.get(settings.store)(settings)
