"""The chat pipeline: moderation → embedding → retrieval → reranking → prompt → generation.

:meth:`ChatPipeline.prepare` runs everything before generation under the request deadline, so a
failing dependency becomes an HTTP error before the first byte; :meth:`ChatPipeline.events`
then streams the answer as typed events. Each stage is timed, traced and has a degraded mode.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from opentelemetry import context as otel_context

from services.gateway.citations import attribute, citation_suffix
from services.gateway.context_window import fit_prompt
from services.gateway.conversations import (
    ANONYMOUS,
    ConversationStore,
    new_conversation_id,
    open_conversation_store,
)
from services.gateway.events import (
    ChatEvent,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    PreparedChat,
    SourcesEvent,
)
from services.gateway.prompt import ECHO_PROMPT, Message, Passage, extract_citations, system_prompt
from services.gateway.prompt_budget import check_prompt_budget
from services.gateway.rerank import RerankGate, rerank
from services.gateway.rewrite import FollowUpRewriter
from services.gateway.safety import LeakDetector
from services.gateway.safety_stages import check_context, check_input, moderated_answer, refuse
from services.gateway.schemas import (
    ChatMetadata,
    ChatRequest,
    ChatResponse,
    DoneData,
    Source,
)
from services.gateway.settings import GatewaySettings
from services.gateway.sources import to_sources
from services.gateway.stages import StageClock
from services.runtime.clients import (
    DependencyError,
    EmbeddingClient,
    GenerationClient,
    ModerationClient,
    RerankingClient,
    RetrievalClient,
)
from services.runtime.context import get_request_id
from services.runtime.tracing import tracer

log = logging.getLogger(__name__)
AnyClient = (
    EmbeddingClient | RetrievalClient | RerankingClient | ModerationClient | GenerationClient
)
_tracer = tracer("services.gateway")

NO_SOURCES_ANSWER = "I don't know: no documents have been indexed yet."
NO_SAFE_SOURCES_ANSWER = "I don't know: the documents found could not be used safely."
ECHO_COMMAND = "/echo "


class ChatPipeline:
    """Usage::

    pipeline = ChatPipeline.from_settings(GatewaySettings())
    prepared = await pipeline.prepare(ChatRequest(message="What is a Pod?"))
    async for event in pipeline.events(prepared): ...
    await pipeline.close()
    """

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        embedding: EmbeddingClient,
        retrieval: RetrievalClient,
        reranking: RerankingClient,
        moderation: ModerationClient,
        generation: GenerationClient,
        store: ConversationStore,
    ) -> None:
        self.settings = settings
        self.embedding, self.retrieval, self.reranking = embedding, retrieval, reranking
        self.moderation, self.generation, self.store = moderation, generation, store
        self.rewriter = FollowUpRewriter(retrieval)
        self.rerank_gate = RerankGate(
            reranking, settings.rerank_health_ttl_s, settings.readiness_timeout_s
        )
        self.system = system_prompt(settings.domain)
        self.leak = LeakDetector(self.system, settings.leak_span_words)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> ChatPipeline:
        """Clients for every dependency and the conversation store under ``data_dir``."""

        def client(kind: type[AnyClient], name: str) -> Any:
            retry, breaker = settings.resilience(name)
            return kind(settings.endpoint(name), retry=retry, breaker=breaker)

        return cls(
            settings,
            embedding=client(EmbeddingClient, "embedding"),
            retrieval=client(RetrievalClient, "retrieval"),
            reranking=client(RerankingClient, "reranking"),
            moderation=client(ModerationClient, "moderation"),
            generation=client(GenerationClient, "generation"),
            store=open_conversation_store(settings),
        )

    @property
    def clients(self) -> dict[str, AnyClient]:
        """Every client by dependency name (for readiness checks and closing)."""
        clients: list[AnyClient] = [
            self.embedding,
            self.retrieval,
            self.reranking,
            self.moderation,
            self.generation,
        ]
        return {c.name: c for c in clients}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        self.store.close()

    async def prepare(
        self,
        request: ChatRequest,
        history: list[Message] | None = None,
        *,
        owner: str = ANONYMOUS,
    ) -> PreparedChat:
        """Stages 1-5 under ``request_timeout_s``; raises domain errors (mapped to HTTP).

        ``history`` given (the OpenAI API, where the client holds the conversation) replaces the
        stored conversation, and the exchange is not recorded.
        """
        clock = StageClock()
        try:
            async with asyncio.timeout(self.settings.request_timeout_s):
                return await self._prepare(request, clock, history, owner)
        except TimeoutError:
            raise DependencyError(
                clock.dependency(),
                f"request deadline of {self.settings.request_timeout_s:g}s exceeded",
                "DEADLINE_EXCEEDED",
            ) from None

    async def _prepare(
        self,
        request: ChatRequest,
        clock: StageClock,
        given: list[Message] | None,
        owner: str = ANONYMOUS,
    ) -> PreparedChat:
        s, question = self.settings, request.message
        max_tokens = request.max_tokens or s.max_tokens
        if given is None:
            conversation_id, history, earlier = await self._history(request.conversation_id, owner)
        else:
            conversation_id, history = new_conversation_id(), given
            earlier = [content for role, content in given if role == "user"]
        with clock.stage("prompt_check"):  # before any call that costs more than a count
            await check_prompt_budget(self.generation, question, max_tokens, self.system)
        metadata = ChatMetadata(
            rerank="skipped: not reached", search_mode=s.search_mode, request_id=get_request_id()
        )
        chat = PreparedChat(
            conversation_id=conversation_id,
            question=question,
            messages=[],
            sources=[],
            metadata=metadata,
            timings=clock.timings,
            max_tokens=max_tokens,
            temperature=request.temperature,
            started=clock.started,
            owner=owner,
            top_p=request.top_p,
            record=given is None,
            trace_context=otel_context.get_current(),
        )
        if s.debug_echo and question.startswith(ECHO_COMMAND):  # tests only, see settings
            metadata.rerank = "skipped: debug echo"
            chat.messages = [("system", ECHO_PROMPT), ("user", "Repeat after me: " + question[6:])]
            return chat
        with clock.stage("moderation"):
            flagged = await check_input(self.moderation, question)
        if flagged:
            metadata.rerank = "skipped: message refused"
            refuse(chat, flagged, "input", s.domain)
            return chat
        with clock.stage("rewrite"):
            query = (await self.rewriter.rewrite(question, earlier)).query
        metadata.retrieval_query = query
        vector = None
        if s.search_mode != "sparse":
            with clock.stage("embedding"):
                vector = (await self.embedding.embed([query]))[0].tolist()
        with clock.stage("retrieval"):
            found = await self.retrieval.search_response(
                query, vector, s.retrieval_k, s.search_mode
            )
        hits = list(found.hits)
        metadata.candidates = len(hits)
        metadata.degraded.extend(found.degraded)
        with clock.stage("reranking"):
            ranked, metadata.rerank = await rerank(
                self.rerank_gate, query, hits, s.context_passages
            )
        if metadata.rerank.startswith("skipped: reranker"):
            metadata.degraded.append("rerank")
        if not ranked:
            chat.canned_answer = NO_SOURCES_ANSWER
            return chat
        if s.check_passages:
            with clock.stage("context_check"):
                checked = await check_context(
                    self.moderation, question, [r.hit.text for r in ranked], hits
                )
            if checked.out_of_scope:
                refuse(chat, ["out_of_scope"], "scope", s.domain)
                return chat
            metadata.flagged_passages = [ranked[i].hit.chunk_id for i in checked.injected]
            ranked = [r for i, r in enumerate(ranked) if i not in checked.injected]
            if not ranked:
                chat.canned_answer = NO_SAFE_SOURCES_ANSWER
                return chat
        with clock.stage("prompt"):
            passages = [Passage(r.hit.title, r.hit.text, list(r.hit.heading_path)) for r in ranked]
            fitted = await fit_prompt(
                self.generation, question, passages, history, chat.max_tokens, self.system
            )
        chat.messages = fitted.messages
        chat.sources = to_sources(ranked[: fitted.passages], s.snippet_chars)
        chat.passage_texts = [p.text for p in passages[: fitted.passages]]
        metadata.history_turns = fitted.history_turns
        metadata.trimmed_passages = len(ranked) - fitted.passages
        metadata.dropped_passages = [ranked[n - 1].hit.chunk_id for n in fitted.dropped_passages]
        metadata.dropped_turns, metadata.prompt_tokens = fitted.dropped_turns, fitted.prompt_tokens
        return chat

    async def events(self, chat: PreparedChat) -> AsyncIterator[ChatEvent]:
        """``sources``, ``delta``*, then ``done`` (or ``error``); closing it cancels generation."""
        yield SourcesEvent(chat.sources)
        parts: list[str] = []
        if chat.canned_answer is not None:
            parts.append(chat.canned_answer)
            yield DeltaEvent(chat.canned_answer)
        else:
            stream = moderated_answer(
                self.generation, self.moderation, self.leak, self.settings, chat, parts
            )
            async with aclosing(stream) as deltas:
                async for event in deltas:
                    yield event
                    if isinstance(event, ErrorEvent):
                        return
            if not chat.metadata.refused and (suffix := self._owed_citations(chat, "".join(parts))):
                parts.append(suffix)
                yield DeltaEvent(suffix)
        answer = "".join(parts)
        await self._record(chat, answer)
        chat.timings["total"] = round(time.perf_counter() - chat.started, 6)
        done = DoneData(
            conversation_id=chat.conversation_id,
            citations=extract_citations(answer, len(chat.sources)),
            usage=chat.usage,
            timings=chat.timings,
            metadata=chat.metadata,
        )
        yield DoneEvent(done, answer)

    def _owed_citations(self, chat: PreparedChat, answer: str) -> str:
        """Markers to append when the model cited nothing; sets ``metadata.citation_mode``."""
        if extract_citations(answer, len(chat.sources)):
            chat.metadata.citation_mode = "model"
            return ""
        numbers = attribute(answer, chat.passage_texts)
        chat.metadata.citation_mode = "attributed" if numbers else "none"
        return citation_suffix(numbers)

    async def collect(self, chat: PreparedChat) -> ChatResponse | ErrorEvent:
        """The whole answer at once, or the error event that ended it."""
        sources: list[Source] = []
        async with aclosing(self.events(chat)) as events:
            async for event in events:
                if isinstance(event, SourcesEvent):
                    sources = event.sources
                elif isinstance(event, ErrorEvent):
                    return event
                elif isinstance(event, DoneEvent):
                    fields = event.done.model_dump()
                    return ChatResponse(**fields, answer=event.answer, sources=sources)
        raise RuntimeError("the event stream ended without done or error")

    async def _history(
        self, conversation_id: str | None, owner: str
    ) -> tuple[str, list[Message], list[str]]:
        """(id, history for the prompt, earlier questions a follow-up may refer to)."""
        if conversation_id is None:
            return new_conversation_id(), [], []
        s = self.settings
        recent = await asyncio.to_thread(self.store.recent, conversation_id, owner, s.history_turns)
        earlier = await asyncio.to_thread(
            self.store.user_turns, conversation_id, owner, s.rewrite_turns
        )
        return conversation_id, recent, earlier

    async def _record(self, chat: PreparedChat, answer: str) -> None:
        """Store the exchange; a failure is logged, never allowed to lose the answer."""
        if not chat.record:
            return
        try:
            await asyncio.to_thread(
                self.store.append_exchange, chat.conversation_id, chat.owner, chat.question, answer
            )
        except Exception:
            log.exception("could not record the conversation turn")
