"""The chat pipeline: moderation → rewrite → embedding → retrieval → reranking → context check →
prompt → generation (through the output guard).

:meth:`ChatPipeline.prepare` runs every stage before generation under the request deadline, so a
failing dependency becomes an HTTP error before the first byte; :meth:`ChatPipeline.events` then
streams the answer as typed events. Every stage, generation included, runs through one
:class:`StageClock` (histogram, span, timings entry) and returns a typed result that one named
method of :class:`PreparedChat` applies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from opentelemetry import context as otel_context

from services.gateway.chat.events import (
    ChatEvent,
    DeltaEvent,
    DoneEvent,
    ErrorEvent,
    ModerationEvent,
    SourcesEvent,
)
from services.gateway.chat.generation import stream_answer
from services.gateway.chat.grounding import GroundingMode, PassageSupport, grounded
from services.gateway.chat.output_guard import moderated_answer, output_check
from services.gateway.chat.prepared import (
    NO_SAFE_SOURCES_ANSWER,
    NO_SOURCES_ANSWER,
    PreparedChat,
    passages_of,
)
from services.gateway.chat.prompt import (
    Message,
    check_prompt_budget,
    closed_book_prompt,
    extract_citations,
    fit_prompt,
    system_prompt,
)
from services.gateway.chat.rerank import RerankGate, rerank
from services.gateway.chat.rewrite import FollowUpRewriter
from services.gateway.chat.safety import LeakDetector, check_context, check_input, refusal_for
from services.gateway.chat.schemas import (
    ChatMetadata,
    ChatRequest,
    ChatResponse,
    DoneData,
    Groundedness,
    Source,
)
from services.gateway.chat.scope import CorpusScope
from services.gateway.chat.sources import attribute, citation_suffix
from services.gateway.chat.stages import RerankStatus, StageClock
from services.gateway.conversations.store import (
    ANONYMOUS,
    ConversationStore,
    new_conversation_id,
    open_conversation_store,
)
from services.gateway.settings import GatewaySettings
from services.runtime.clients import (
    DependencyError,
    EmbeddingClient,
    GenerationClient,
    ModerationClient,
    RerankingClient,
    RetrievalClient,
)
from services.runtime.context import get_request_id

log = logging.getLogger(__name__)
AnswerEvents = AsyncGenerator[DeltaEvent | ErrorEvent | ModerationEvent, None]
AnyClient = (
    EmbeddingClient | RetrievalClient | RerankingClient | ModerationClient | GenerationClient
)


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
        self.scope = CorpusScope(embedding, retrieval, settings.scope_refresh_s)
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
        """Every stage before generation under ``request_timeout_s``; raises domain errors.

        ``history`` given (the OpenAI API, where the client holds the conversation) replaces the
        stored conversation, and the exchange is not recorded.
        """
        clock = StageClock()
        try:
            async with asyncio.timeout(self.settings.request_timeout_s):
                chat = await self.start(request, clock, history, owner)
                return await self.run_stages(chat)
        except TimeoutError:
            raise DependencyError(
                clock.dependency(),
                f"request deadline of {self.settings.request_timeout_s:g}s exceeded",
                "DEADLINE_EXCEEDED",
            ) from None

    async def run_stages(self, chat: PreparedChat) -> PreparedChat:
        """The stages in order; each returns a typed result that ``chat`` applies by name."""
        s, clock, question = self.settings, chat.clock, chat.question
        await clock.run(
            "prompt_check",
            check_prompt_budget(self.generation, question, chat.max_tokens, self.system),
        )
        if flagged := await clock.run("moderation", check_input(self.moderation, question)):
            return chat.refuse(flagged, "input", refusal_for(flagged, s.domain))
        if not chat.retrieval:
            return await self.closed_book(chat)
        query = (await clock.run("rewrite", self.rewriter.rewrite(question, chat.earlier))).query
        vector = await clock.run("embedding", self.query_vector(query))
        found = await clock.run(
            "retrieval", self.retrieval.search_response(query, vector, s.retrieval_k, s.search_mode)
        )
        chat.searched(query, len(found.hits), found.degraded)
        outcome = await clock.run(
            "reranking", rerank(self.rerank_gate, query, found.hits, s.context_passages)
        )
        if not (ranked := chat.reranked(outcome)):
            return chat.answer_with(NO_SOURCES_ANSWER)
        if s.check_passages:
            texts = [r.hit.text for r in ranked]
            verdict = await clock.run(
                "context_check",
                check_context(self.moderation, self.scope, question, texts, found.hits),
            )
            if verdict.out_of_scope:
                return chat.refuse(
                    ["out_of_scope"], "scope", refusal_for(["out_of_scope"], s.domain)
                )
            if not (ranked := chat.without_injected(ranked, verdict.injected)):
                return chat.answer_with(NO_SAFE_SOURCES_ANSWER)
        passages = passages_of(ranked, question, s.context_sentences)
        fitted = await clock.run(
            "prompt",
            fit_prompt(
                self.generation, question, passages, chat.history, chat.max_tokens, self.system
            ),
        )
        return chat.prompted(
            fitted, ranked, passages, None if chat.full_sources else s.snippet_chars
        )

    async def closed_book(self, chat: PreparedChat) -> PreparedChat:
        """The model alone, with a plain assistant prompt: the no-retrieval baseline."""
        chat.metadata.rerank = RerankStatus.RETRIEVAL_OFF
        system = closed_book_prompt(self.settings.domain)
        fitted = await chat.clock.run(
            "prompt",
            fit_prompt(
                self.generation, chat.question, [], [], chat.max_tokens, system, closed_book=True
            ),
        )
        return chat.prompted(fitted, [], [], None)

    async def start(
        self,
        request: ChatRequest,
        clock: StageClock,
        given: list[Message] | None,
        owner: str = ANONYMOUS,
    ) -> PreparedChat:
        """A new chat: its conversation (stored, or given by the client) and empty metadata."""
        if given is None:
            conversation_id, history, earlier = await self._history(request.conversation_id, owner)
        else:
            conversation_id, history = new_conversation_id(), given
            earlier = [content for role, content in given if role == "user"]
        metadata = ChatMetadata(
            rerank=RerankStatus.NOT_REACHED,
            search_mode=self.settings.search_mode,
            request_id=get_request_id(),
        )
        return PreparedChat(
            conversation_id=conversation_id,
            question=request.message,
            history=history,
            earlier=earlier,
            metadata=metadata,
            clock=clock,
            max_tokens=request.max_tokens or self.settings.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            repetition_penalty=request.repetition_penalty,
            no_repeat_ngram_size=request.no_repeat_ngram_size,
            full_sources=request.full_sources,
            owner=owner,
            record=given is None and request.retrieval,
            retrieval=request.retrieval,
            adapter=self.settings.adapter if request.adapter is None else request.adapter,
            trace_context=otel_context.get_current(),
        )

    async def query_vector(self, query: str) -> list[float] | None:
        """The query's embedding; none when retrieval is sparse only."""
        if self.settings.search_mode == "sparse":
            return None
        return (await self.embedding.embed([query]))[0].tolist()

    async def events(self, chat: PreparedChat) -> AsyncGenerator[ChatEvent, None]:
        """``sources``, ``delta``*, then ``done`` (or ``error``); closing it cancels generation."""
        yield SourcesEvent(chat.sources)
        if chat.canned_answer is not None:
            chat.answer.add(chat.canned_answer)
            yield DeltaEvent(chat.canned_answer)
        else:
            stream, support = self.answer_stream(chat)
            try:
                async with aclosing(stream) as deltas:
                    async for event in deltas:
                        if isinstance(event, DeltaEvent):
                            chat.answer.add(event.text)
                        yield event
                        if isinstance(event, ErrorEvent):
                            return
            finally:
                if support is not None:
                    await support.close()
            if not chat.metadata.refused and (suffix := self._owed_citations(chat)):
                chat.answer.add(suffix)
                yield DeltaEvent(suffix)
        await self._record(chat)
        chat.clock.total()
        done = DoneData(
            conversation_id=chat.conversation_id,
            citations=extract_citations(chat.answer.text, len(chat.sources)),
            usage=chat.usage,
            timings=chat.timings,
            metadata=chat.metadata,
        )
        yield DoneEvent(done, chat.answer.text)

    def answer_stream(
        self, chat: PreparedChat
    ) -> tuple[
        AsyncGenerator[DeltaEvent | ErrorEvent | ModerationEvent, None], PassageSupport | None
    ]:
        """Generation → the groundedness guard (when passages back the answer) → output
        moderation; the passage support the guard uses, to close after the stream."""
        stream: AsyncGenerator[DeltaEvent | ErrorEvent, None] = stream_answer(self.generation, chat)
        support, mode = None, GroundingMode(self.settings.grounding)
        if mode != GroundingMode.OFF and chat.passage_texts:
            support = PassageSupport(self.embedding, chat.question, chat.passage_texts)
            support.start()
            chat.metadata.groundedness = Groundedness(mode=mode.value)
            stream = grounded(stream, support, mode, chat.metadata.groundedness)
        check = (
            output_check(self.moderation, self.leak) if self.settings.output_moderation else None
        )
        moderated = moderated_answer(stream, check, self.settings.output_window_chars, chat)
        return moderated, support

    def _owed_citations(self, chat: PreparedChat) -> str:
        """Markers to append when the model cited nothing; sets ``metadata.citation_mode``."""
        answer, guard = chat.answer.text, chat.metadata.groundedness
        if guard is not None:  # the guard cited each supported sentence itself
            if guard.fallback:
                chat.metadata.citation_mode = "extractive"
            elif guard.cited_by_guard:
                chat.metadata.citation_mode = "attributed"
            else:
                cited = extract_citations(answer, len(chat.sources))
                chat.metadata.citation_mode = "model" if cited else "none"
            return ""
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

    async def _record(self, chat: PreparedChat) -> None:
        """Store the exchange; a failure is logged, never allowed to lose the answer."""
        if not chat.record:
            return
        try:
            await asyncio.to_thread(
                self.store.append_exchange,
                chat.conversation_id,
                chat.owner,
                chat.question,
                chat.answer.text,
                [s.model_dump(include={"n", "title", "source_path", "text"}) for s in chat.sources],
            )
        except Exception:
            log.exception("could not record the conversation turn")
