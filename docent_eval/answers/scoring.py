"""One scored row per (question, system), and the summary of a system's rows.

Averages are stated where they are defined: correctness over answerable questions with
``must_contain`` terms (a refusal of one scores 0), groundedness and citation precision over
sentences (micro averages, so long answers weigh by their sentences), refusal over every
question. Requests that failed are counted as errors and left out of the scores.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

from docent_eval.answers.metrics import (
    SupportJudge,
    answer_sentences,
    must_contain_share,
    token_f1,
)
from docent_eval.answers.questions import Question
from docent_eval.answers.targets import Reply
from docentlib.metrics import percentile


@dataclass
class Row:
    id: str
    system: str
    question: str
    answer: str
    error: str | None
    refused: bool
    expect_refusal: bool
    must_contain: float | None
    f1: float | None
    judge: int | None
    sentences: int
    grounded: int | None  # sentences the given passages support; None without passages
    reference_supported: int | None  # sentences the reference answer supports
    cited_pairs: int
    cited_supported: int
    citation_mode: str
    passages: int
    ttft_ms: float | None
    e2e_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None

    @property
    def answerable(self) -> bool:
        return not self.expect_refusal

    @property
    def score(self) -> float | None:
        """Reference-based score for pairwise comparison without a judge."""
        if self.expect_refusal:
            return 1.0 if self.refused else 0.0
        parts = [v for v in (self.must_contain, self.f1) if v is not None]
        return statistics.fmean(parts) if parts else None

    def as_dict(self) -> dict:
        return asdict(self)


def score_reply(q: Question, system: str, reply: Reply, support: SupportJudge) -> Row:
    """Every reference-based and support-based score of one reply (the judge's comes later)."""
    sentences = [] if reply.error or reply.refused else answer_sentences(reply.text)
    grounded = None
    cited_good = cited = 0
    if reply.passages:
        grounded = support.support(sentences, reply.passages).supported
        cited_good, cited = support.citation_precision(sentences, reply.passages)
    ref_supported = support.support(sentences, [q.reference]).supported if q.reference else None
    return Row(
        id=q.id,
        system=system,
        question=q.text,
        answer=reply.text,
        error=reply.error,
        refused=reply.refused,
        expect_refusal=q.expect_refusal,
        must_contain=None if reply.error else must_contain_share(reply.text, q.must_contain),
        f1=None if reply.error else token_f1(reply.text, q.reference),
        judge=None,
        sentences=len(sentences),
        grounded=grounded,
        reference_supported=ref_supported,
        cited_pairs=cited,
        cited_supported=cited_good,
        citation_mode=reply.citation_mode,
        passages=len(reply.passages),
        ttft_ms=None if reply.ttft_s is None else round(reply.ttft_s * 1000, 1),
        e2e_ms=round(reply.e2e_s * 1000, 1),
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
    )


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarise(rows: list[Row], wall_s: float) -> dict:
    """The system's figures; ``wall_s`` (the time it took to answer them all) gives throughput."""
    ok = [r for r in rows if r.error is None]
    answerable = [r for r in ok if r.answerable]
    answered = [r for r in ok if not r.refused]
    with_passages = [r for r in answered if r.grounded is not None]
    with_reference = [r for r in answerable if r.reference_supported is not None]
    refusal_known = [r for r in ok if r.expect_refusal or r.must_contain is not None]
    ttft = [r.ttft_ms for r in ok if r.ttft_ms is not None]
    e2e = [r.e2e_ms for r in ok]
    tokens = [
        r.prompt_tokens + r.completion_tokens
        for r in ok
        if r.prompt_tokens is not None and r.completion_tokens is not None
    ]
    return {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "correctness": _mean([r.must_contain for r in answerable if r.must_contain is not None]),
        "token_f1": _mean([r.f1 for r in answerable if r.f1 is not None]),
        "judge_score": _mean([float(r.judge) for r in ok if r.judge is not None]),
        "groundedness": _ratio(
            sum(r.grounded or 0 for r in with_passages), sum(r.sentences for r in with_passages)
        ),
        "reference_support": _ratio(
            sum(r.reference_supported or 0 for r in with_reference),
            sum(r.sentences for r in with_reference),
        ),
        "citation_precision": _ratio(
            sum(r.cited_supported for r in ok), sum(r.cited_pairs for r in ok)
        ),
        "model_cited": _ratio(
            sum(r.citation_mode == "model" for r in with_passages), len(with_passages)
        ),
        "attributed": _ratio(
            sum(r.citation_mode in ("attributed", "extractive") for r in with_passages),
            len(with_passages),
        ),
        "refusal_rate": _ratio(sum(r.refused for r in ok), len(ok)),
        "refusal_accuracy": _ratio(
            sum(r.refused == r.expect_refusal for r in refusal_known), len(refusal_known)
        ),
        "ttft_p50_ms": round(percentile(ttft, 50), 1) if ttft else None,
        "ttft_p95_ms": round(percentile(ttft, 95), 1) if ttft else None,
        "e2e_p50_ms": round(percentile(e2e, 50), 1) if e2e else None,
        "e2e_p95_ms": round(percentile(e2e, 95), 1) if e2e else None,
        "tokens_per_answer": _mean([float(t) for t in tokens]),
        "answers_per_hour": round(len(ok) / wall_s * 3600, 1) if wall_s > 0 and ok else None,
    }


def win_rate(docent: list[Row], other: list[Row], pairwise: dict[str, float] | None) -> dict:
    """Docent's wins against ``other`` (1 win, 0.5 tie), by the judge when it ruled, else by
    the reference-based score; questions either failed on are left out."""
    theirs = {r.id: r for r in other}
    outcomes: list[float] = []
    for mine in docent:
        their = theirs.get(mine.id)
        if their is None or mine.error or their.error:
            continue
        if pairwise is not None and mine.id in pairwise:
            outcomes.append(pairwise[mine.id])
        elif mine.score is not None and their.score is not None:
            diff = mine.score - their.score
            outcomes.append(0.5 if abs(diff) < 1e-9 else float(diff > 0))
    return {
        "win_rate": _mean(outcomes),
        "compared": len(outcomes),
        "by": "judge" if pairwise else "reference",
    }
