"""Review items and ratings: what a store must do, and the one this gateway uses.

Chosen by ``settings.store`` like the conversation store: a SQLite file under ``data_dir`` for one
process, Redis when replicas share state. Stores are synchronous; routes call them through
``asyncio.to_thread``.

Usage::

    store = open_review_store(settings)
    store.add_items([ReviewItem.new("import", "How do I roll back?", "Use undo [1].", [])])
    store.rate(Rating(item_id, "ana", helpfulness=4, accuracy=5, safety=5))
"""

from __future__ import annotations

import builtins
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from docentlib.errors import NotFound
from docentlib.registry import Registry

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

ItemSource = Literal["conversation", "import"]
DIMENSIONS = ("helpfulness", "accuracy", "safety")
SOURCE_FIELDS = ("n", "title", "source_path", "text")


def sampled_item_id(scope: str, key: int | str) -> str:
    """A stable item id, so the same exchange (conversation id, index) or imported question
    (``"import"``, its ``_id``) is never added twice."""
    digest = hashlib.sha256(f"{scope}#{key}".encode()).hexdigest()[:24]
    return f"rv_{digest}"


def not_found(item_id: str) -> NotFound:
    return NotFound(f"review item {item_id} not found")


@dataclass(frozen=True)
class ReviewItem:
    """One answer to judge, with the numbered passages it was generated from."""

    id: str
    source: ItemSource
    question: str
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    question_id: str | None = None  # the ``_id`` of an imported questions-file row
    conversation_id: str | None = None
    created_at: float = 0.0

    @classmethod
    def new(
        cls,
        source: ItemSource,
        question: str,
        answer: str,
        sources: list[dict[str, Any]],
        *,
        item_id: str | None = None,
        question_id: str | None = None,
        conversation_id: str | None = None,
    ) -> ReviewItem:
        """An item stamped now; sources keep only n, title, source_path and text."""
        kept = [{k: s.get(k) for k in SOURCE_FIELDS} for s in sources]
        return cls(
            item_id or f"rv_{uuid.uuid4().hex[:24]}",
            source,
            question,
            answer,
            kept,
            question_id,
            conversation_id,
            time.time(),
        )


@dataclass(frozen=True)
class Rating:
    """One rater's scores (1-5) of one item; a rater re-rating an item replaces this."""

    item_id: str
    rater: str
    helpfulness: int
    accuracy: int
    safety: int
    comment: str = ""
    created_at: float = 0.0


class ReviewStore(Protocol):
    def add_items(self, items: builtins.list[ReviewItem]) -> builtins.list[ReviewItem]:
        """Store the items whose id is new; returns those (already-known ids are skipped)."""
        ...

    def items(self) -> builtins.list[ReviewItem]:
        """Every item, oldest first."""
        ...

    def get_item(self, item_id: str) -> ReviewItem:
        """The item; :class:`NotFound` if there is none with this id."""
        ...

    def rate(self, rating: Rating) -> Rating:
        """Store or replace (item, rater)'s rating, stamped now; :class:`NotFound` for no item."""
        ...

    def ratings(self, rater: str | None = None) -> builtins.list[Rating]:
        """Every rating (or one rater's), ordered by item then rater."""
        ...

    def close(self) -> None: ...


_HERE = "services.gateway.review"
REVIEW_STORES: Registry[Callable[[GatewaySettings], ReviewStore]] = Registry(
    "review store",
    {
        "sqlite": f"{_HERE}.sqlite_store:SqliteReviewStore.from_settings",
        "redis": f"{_HERE}.redis_store:RedisReviewStore.from_settings",
    },
)


def open_review_store(settings: GatewaySettings) -> ReviewStore:
    """SQLite under ``data_dir`` by default; Redis (shared by replicas) when ``store=redis``."""
    return REVIEW_STORES.get(settings.store)(settings)
