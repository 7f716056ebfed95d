"""A chat between its stages: what was decided before generation, changed only by named steps.

Once :meth:`ChatPipeline.prepare` returns one, the HTTP status is 200. Each stage's typed result
is applied by one method here (``searched``, ``reranked``, ``prompted``, ``refuse``, ...), so the
pipeline reads as the stages in order and every field write has a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.context import Context

from services.gateway.chat.answer import Answer
from services.gateway.chat.prompt import FittedPrompt, Message, Passage, relevant_sentences
from services.gateway.chat.rerank import Ranked, RerankOutcome
from services.gateway.chat.safety import count_refusal, main_category
from services.gateway.chat.schemas import ChatMetadata, Source, Usage
from services.gateway.chat.sources import to_sources
from services.gateway.chat.stages import Degraded, RerankStatus, StageClock

NO_SOURCES_ANSWER = "I don't know: no documents have been indexed yet."
NO_SAFE_SOURCES_ANSWER = "I don't know: the documents found could not be used safely."


@dataclass
class PreparedChat:
    """Everything decided before generation, and the answer as it is built."""

    conversation_id: str
    question: str
    history: list[Message]  # earlier turns for the prompt
    earlier: list[str]  # earlier questions a follow-up may refer to
    metadata: ChatMetadata
    clock: StageClock
    max_tokens: int
    temperature: float
    top_p: float = 1.0
    repetition_penalty: float | None = None  # None: the generation engine's default
    no_repeat_ngram_size: int | None = None
    full_sources: bool = False  # sources carry whole passages, not snippets
    owner: str = "anonymous"  # the API key id whose conversation this is
    record: bool = True  # store the exchange in the conversation (False: client-held history)
    retrieval: bool = True  # False: the model alone, no passages (evaluation baseline)
    adapter: str = ""  # LoRA adapter the generation service applies ("": the base model)
    trace_context: Context | None = None
    messages: list[Message] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    passage_texts: list[str] = field(default_factory=list)  # what the prompt shows of each source
    canned_answer: str | None = None  # set when generation is skipped
    usage: Usage = field(default_factory=Usage)
    answer: Answer = field(default_factory=Answer)

    @property
    def timings(self) -> dict[str, float]:
        return self.clock.timings

    def refuse(self, categories: list[str], where: str, refusal: str) -> PreparedChat:
        """Answer with ``refusal`` instead of generating (``where``: input, scope or output)."""
        meta = self.metadata
        meta.refused, meta.moderation, meta.flagged_categories = True, where, categories
        if meta.rerank == RerankStatus.NOT_REACHED:
            meta.rerank = RerankStatus.MESSAGE_REFUSED
        self.sources = []
        count_refusal(main_category(categories))
        return self.answer_with(refusal)

    def answer_with(self, text: str) -> PreparedChat:
        """A fixed answer (a refusal, nothing indexed): generation is skipped."""
        self.canned_answer = text
        return self

    def searched(self, query: str, hits: int, degraded: Sequence[str]) -> None:
        """Retrieval ran on ``query`` (the follow-up rewrite) and found ``hits`` candidates."""
        self.metadata.retrieval_query = query
        self.metadata.candidates = hits
        self.metadata.degraded.extend(degraded)

    def reranked(self, outcome: RerankOutcome) -> list[Ranked]:
        """Record what the reranker did; the candidates to carry on with."""
        self.metadata.rerank = outcome.note
        if outcome.status.degrades:
            self.metadata.degraded.append(Degraded.RERANK)
        return outcome.ranked

    def without_injected(self, ranked: list[Ranked], injected: Sequence[int]) -> list[Ranked]:
        """Drop the passages that carried injected instructions, and list them."""
        self.metadata.flagged_passages = [ranked[i].hit.chunk_id for i in injected]
        return [r for i, r in enumerate(ranked) if i not in set(injected)]

    def prompted(
        self,
        fitted: FittedPrompt,
        ranked: list[Ranked],
        passages: Sequence[Passage],
        snippet_chars: int | None,
    ) -> PreparedChat:
        """The prompt to generate from, and the sources it numbers."""
        kept = ranked[: fitted.passages]
        meta = self.metadata
        self.messages = fitted.messages
        self.sources = to_sources(kept, snippet_chars)
        self.passage_texts = [p.text for p in passages[: fitted.passages]]
        meta.history_turns, meta.trimmed_passages = fitted.history_turns, len(ranked) - len(kept)
        meta.dropped_passages = [ranked[n - 1].hit.chunk_id for n in fitted.dropped_passages]
        meta.dropped_turns, meta.prompt_tokens = fitted.dropped_turns, fitted.prompt_tokens
        return self

    def stopped_by_output_moderation(self, categories: list[str], refusal: str) -> None:
        """Output moderation cut the answer: the refusal replaces what was generated."""
        meta = self.metadata
        meta.refused, meta.moderation, meta.flagged_categories = True, "output", categories
        meta.finish_reason = "content_filter"
        self.answer.replace(refusal)


def passages_of(ranked: Sequence[Ranked], question: str, sentences: int = 0) -> list[Passage]:
    """What the prompt shows of each candidate: its most relevant ``sentences`` (0: all)."""
    return [
        Passage(
            r.hit.title, relevant_sentences(r.hit.text, question, sentences), r.hit.heading_path
        )
        for r in ranked
    ]
