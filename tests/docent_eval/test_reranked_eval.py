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
    hits = [_hit(n) for n in range(1, 6)]
    seen: list[str] = []

    def prefer_the_last(query: str, passages: list[str]) -> list[float]:
        seen.extend(passages)
        return [float(i) for i in range(len(passages))]  # the reranker likes later ones

    out = _reranked("q", hits, prefer_the_last, top_n=3, weight=5.0)
    assert seen == [rerank_text(h.title, h.heading_path, h.text) for h in hits[:3]]
    assert seen[0].startswith("Title 1 > Usage > Step 1\n")
    assert [h.chunk_id for h in out] == ["c3", "c2", "c1", "c4", "c5"]  # the tail keeps its order
