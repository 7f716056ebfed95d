"""The evaluator reranks exactly what the gateway sends the cross-encoder (title > headings)."""

from __future__ import annotations

from docent_eval.retrieval_eval import _reranked
from docentlib.passages import rerank_text
from services.retrieval.types import SearchHit


def _hit(n: int) -> SearchHit:
    return SearchHit(
        chunk_id=f"c{n}", doc_id=f"d{n}", title=f"Title {n}", source_path=f"d{n}.md",
        heading_path=("Usage", f"Step {n}"), text=f"text {n}", score=1.0 / n,
        retriever_scores={}, retriever_ranks={},
    )  # fmt: skip


def test_passages_carry_title_and_headings_and_the_blend_reorders_the_head() -> None:
    hits = [_hit(n) for n in range(1, 9)]
    seen: list[str] = []

    def prefer_the_fifth(query: str, passages: list[str]) -> list[float]:
        seen.extend(passages)
        return [10.0 if i == 4 else 0.0 for i in range(len(passages))]  # z-score 2.0

    out = _reranked("q", hits, prefer_the_fifth, top_n=5, weight=5.0)
    assert seen == [rerank_text(h.title, h.heading_path, h.text) for h in hits[:5]]
    assert seen[0].startswith("Title 1 > Usage > Step 1\n")
    # confidence 2.0 -> half the weight (2.5): c5 climbs to second; the tail keeps its order
    assert [h.chunk_id for h in out] == ["c1", "c5", "c2", "c3", "c4", "c6", "c7", "c8"]
