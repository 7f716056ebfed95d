"""The review's work: sampling stored exchanges, and answering imported questions in the
background through the gateway's own pipeline.

Import jobs live in this process (``GET /v1/review/import/{job}`` must reach the replica that
started the job); the items they store are in the shared review store.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from docentlib.errors import DocentError, NotFound
from services.gateway.chat.events import ErrorEvent
from services.gateway.chat.schemas import ChatRequest
from services.gateway.review.schemas import ImportQuestion
from services.gateway.review.store import (
    SOURCE_FIELDS,
    ReviewItem,
    ReviewStore,
    open_review_store,
    sampled_item_id,
)

if TYPE_CHECKING:
    from services.gateway.chat.pipeline import ChatPipeline
    from services.gateway.conversations.store import ConversationStore
    from services.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)
REVIEW_OWNER = "review"  # imported answers are recorded as this owner's conversations
SAMPLE_POOL = 5000  # sampling draws from this many most recent exchanges
MAX_ERRORS = 5


@dataclass
class ImportJob:
    id: str
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0  # questions already imported (the same ``_id``)
    state: Literal["running", "done", "failed"] = "running"
    errors: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


class ReviewService:
    """Usage: ``review = ReviewService.open(settings)`` ... ``await review.close()``."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self.jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def open(cls, settings: GatewaySettings) -> ReviewService:
        return cls(open_review_store(settings))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.store.close()

    async def sample(
        self, conversations: ConversationStore, count: int, seed: int | None
    ) -> list[ReviewItem]:
        """``count`` random recent exchanges of any owner, none already under review."""
        exchanges = await asyncio.to_thread(conversations.exchanges, SAMPLE_POOL)
        items = await asyncio.to_thread(self.store.items)
        known = {item.id for item in items}
        imported = {item.conversation_id for item in items if item.source == "import"}
        candidates = [
            e
            for e in exchanges
            if e.owner != REVIEW_OWNER
            and e.conversation_id not in imported
            and sampled_item_id(e.conversation_id, e.index) not in known
        ]
        chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))
        new = [
            ReviewItem.new(
                "conversation",
                e.question,
                e.answer,
                e.sources or [],
                item_id=sampled_item_id(e.conversation_id, e.index),
                conversation_id=e.conversation_id,
            )
            for e in sorted(chosen, key=lambda e: e.created_at)
        ]
        return await asyncio.to_thread(self.store.add_items, new)

    def start_import(
        self, pipeline: ChatPipeline, questions: list[ImportQuestion], max_tokens: int | None
    ) -> ImportJob:
        """A job answering ``questions`` one by one in the background (generation is the
        bottleneck; one at a time leaves the gateway to its users)."""
        job = ImportJob(f"job_{uuid.uuid4().hex[:16]}", len(questions))
        self.jobs[job.id] = job
        task = asyncio.create_task(self._run(job, pipeline, questions, max_tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def job(self, job_id: str) -> ImportJob:
        if job_id not in self.jobs:
            raise NotFound(f"import job {job_id} not found")
        return self.jobs[job_id]

    async def _run(
        self,
        job: ImportJob,
        pipeline: ChatPipeline,
        questions: list[ImportQuestion],
        max_tokens: int | None,
    ) -> None:
        try:
            for question in questions:
                item_id = sampled_item_id("import", question.id)
                if await self._exists(item_id):
                    job.skipped += 1
                    job.done += 1
                    continue
                try:
                    item = await self._answer(pipeline, question, max_tokens, item_id)
                except DocentError as exc:  # e.g. a dependency down: the next one may pass
                    job.fail(f"{question.id}: {exc.message}")
                    continue
                except Exception as exc:
                    log.exception("review import of %s failed", question.id)
                    job.fail(f"{question.id}: {exc}")
                    continue
                await asyncio.to_thread(self.store.add_items, [item])
                job.done += 1
            job.state = "done"
        except Exception as exc:
            log.exception("review import job %s failed", job.id)
            job.state = "failed"
            job.fail(f"job stopped: {exc}")

    async def _exists(self, item_id: str) -> bool:
        try:
            await asyncio.to_thread(self.store.get_item, item_id)
        except NotFound:
            return False
        return True

    async def _answer(
        self,
        pipeline: ChatPipeline,
        question: ImportQuestion,
        max_tokens: int | None,
        item_id: str,
    ) -> ReviewItem:
        """The pipeline's answer with its whole passages; raises when generation failed."""
        request = ChatRequest(
            message=question.text, stream=False, full_sources=True, max_tokens=max_tokens
        )
        chat = await pipeline.prepare(request, owner=REVIEW_OWNER)
        result = await pipeline.collect(chat)
        if isinstance(result, ErrorEvent):
            raise RuntimeError(result.body.get("error", {}).get("message") or str(result.error))
        sources = [s.model_dump(include=set(SOURCE_FIELDS)) for s in result.sources]
        return ReviewItem.new(
            "import",
            question.text,
            result.answer,
            sources,
            item_id=item_id,
            question_id=question.id,
            conversation_id=result.conversation_id,
        )
