"""Request and response bodies of the REST API; the SSE events reuse the same shapes.

The message length limit lives in settings (``max_message_chars``) and is checked by the route,
so the schema only enforces what never changes: non-blank text, id format, sampling ranges.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

CONVERSATION_ID_PATTERN = r"^conv_[0-9a-f]{32}$"


class ChatRequest(BaseModel):
    """Usage: ``ChatRequest(message="How do I roll back a Deployment?", stream=False)``."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="The user's question (stripped).")
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID_PATTERN, description="Continue this conversation."
    )
    stream: bool = Field(True, description="Server-sent events when true, one JSON otherwise.")
    max_tokens: int | None = Field(
        None, strict=True, ge=1, le=1024, description="Completion budget."
    )
    temperature: float = Field(0.0, strict=True, ge=0.0, le=2.0, description="0 is greedy.")
    top_p: float = Field(1.0, strict=True, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    repetition_penalty: float | None = Field(
        None,
        strict=True,
        ge=1.0,
        le=2.0,
        description="Penalty on tokens the answer already used (1: off). Default: the generation "
        "engine's (1.15 for the small CPU model, off for vLLM).",
    )
    no_repeat_ngram_size: int | None = Field(
        None,
        strict=True,
        ge=0,
        le=16,
        description="Never generate an n-gram of this many tokens twice (0: off). Default: the "
        "engine's (4 for the small CPU model; engines that cannot do it refuse a non-zero value).",
    )

    retrieval: bool = Field(
        True,
        description="Answer from the indexed documents. false (admin scope; for evaluation) asks "
        "the same model with no passages and a plain assistant prompt, and the exchange is not "
        "stored: the no-retrieval baseline of `docent eval answers --against no-retrieval`.",
    )
    adapter: str | None = Field(
        None,
        max_length=128,
        description="LoRA adapter (one the generation service serves by name) that writes this "
        'answer; "" is the base model. Default: the gateway\'s `adapter` setting. Setting it '
        "needs the admin scope (for evaluation: base vs SFT vs DPO on one stack).",
    )
    full_sources: bool = Field(
        False,
        description="Return each source's whole passage instead of a snippet (e.g. to check "
        "every cited sentence against what the model read).",
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("message must not be blank")
        return stripped


class Source(BaseModel):
    """One numbered passage that was put in the prompt; ``[n]`` in the answer refers to it."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    source_path: str
    heading_path: list[str]
    text: str = Field(description="A snippet of the passage (all of it with full_sources).")
    score: float = Field(description="Fused retrieval score.")
    retriever_scores: dict[str, float]
    rerank_score: float | None = Field(None, description="Cross-encoder score, when reranked.")


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Groundedness(BaseModel):
    """What the groundedness guard did to the answer (docs/api.md)."""

    mode: str = Field(description='"drop" (unsupported sentences left out) or "mark" (kept).')
    sentences: int = Field(0, description="Sentences judged against the passages.")
    supported: int = Field(0, description="Of those, supported by a passage.")
    dropped: int = Field(0, description="Unsupported sentences left out of the answer.")
    unsupported: list[str] = Field(
        default_factory=list, description="The unsupported sentences (dropped or marked)."
    )
    stopped: str | None = Field(
        None, description='"repetition" or "loop" when the guard ended a looping answer.'
    )
    fallback: bool = Field(
        False, description="The answer ends with the passages' sentences closest to the question."
    )
    cited_by_guard: int = Field(
        0, description="Supported sentences the guard cited because the model had not."
    )


class ChatMetadata(BaseModel):
    """How the answer was produced: degraded modes and refusals are reported, never hidden."""

    rerank: str = Field(description='"applied" or "skipped: <reason>".')
    refused: bool = False
    flagged_categories: list[str] = Field(default_factory=list)
    moderation: str | None = Field(
        None,
        description='Where a refusal came from: "input" (the message), "scope" (outside the '
        'domain) or "output" (the streamed answer was cut off).',
    )
    flagged_passages: list[str] = Field(
        default_factory=list,
        description="chunk_id of each retrieved passage left out because it carried a prompt "
        "injection.",
    )
    search_mode: str = "hybrid"
    candidates: int = Field(0, description="Passages retrieval returned before reranking.")
    history_turns: int = Field(0, description="Previous exchanges included in the prompt.")
    trimmed_passages: int = Field(0, description="Passages dropped to fit the context window.")
    dropped_passages: list[str] = Field(
        default_factory=list,
        description="chunk_id of each passage dropped to fit the context window (lowest-ranked "
        "first to go, listed in rank order).",
    )
    dropped_turns: int = Field(
        0, description="Oldest history exchanges dropped to fit the context window."
    )
    prompt_tokens: int = Field(
        0, description="Exact prompt tokens (chat template included) counted before generation."
    )
    finish_reason: str | None = Field(None, description="stop, length or abort.")
    citation_mode: str = Field(
        "none",
        description='"model" (the model wrote the [n] markers), "attributed" (the gateway added '
        "them: per sentence from the passage that supports it, or at the end from word overlap "
        'when the guard is off), "extractive" (the answer is the passages\' own sentences) or '
        '"none".',
    )
    degraded: list[str] = Field(
        default_factory=list,
        description='Degraded modes this answer was produced in: "rerank" (fused retrieval '
        'order, the reranker was unavailable), "sparse" (dense retrieval only, the sparse index '
        "was unavailable).",
    )
    groundedness: Groundedness | None = Field(
        None, description="The groundedness guard's work; null when it did not run."
    )
    retrieval_query: str | None = Field(
        None, description="What was searched: a follow-up joined with the question it refers to."
    )
    request_id: str | None = None


class DoneData(BaseModel):
    """The payload of the SSE ``done`` event: everything but the answer text and sources."""

    conversation_id: str
    citations: list[int] = Field(description="Source numbers actually cited, in order.")
    usage: Usage
    timings: dict[str, float] = Field(description="Seconds per stage, plus total.")
    metadata: ChatMetadata


class ChatResponse(DoneData):
    """The whole answer at once (``stream: false``)."""

    answer: str
    sources: list[Source]


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    dependency: str | None = None
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every non-2xx body, and the SSE ``error`` event payload."""

    error: ErrorDetail
