"""Calibrate the rerank blend: how much to trust the cross-encoder's order, per query.

For each judged query the fused (hybrid) candidates and the cross-encoder's scores of the top
``top_n`` are computed once (with the production code, as ``docent eval retrieval`` does) and
cached as JSON; every blend setting is then scored offline on that cache, so a grid costs
seconds. Use it on calibration corpora only, never on the corpus you report::

    python -m bench.rerank_blend dump --corpus /tmp/cli-help \\
        --queries tests/data/cli-help/queries.jsonl --qrels tests/data/cli-help/qrels.tsv \\
        --out bench/out/blend/cli-help.json
    python -m bench.rerank_blend grid bench/out/blend/cli-help.json [more.json ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

from docentlib.metrics import documents_from_chunks, summarise
from docentlib.ranking import blend_rerank, effective_weight, ramp, rerank_confidence

TOP_N = 30


def rank_agreement(scores: list[float]) -> float:
    """Spearman correlation of the cross-encoder's order with the prior order (``scores[i]``
    belongs to the prior's ``i``-th candidate): 1 when it keeps the order, about 0 when its
    order is unrelated to retrieval's, -1 when it reverses it.

    A factor tried for the blend (trust the reranker less when it disagrees with retrieval);
    it never helped on the calibration corpora, so only this grid uses it."""
    n = len(scores)
    if n < 3:
        return 1.0
    by_score = sorted(range(n), key=lambda i: (-scores[i], i))
    d2 = sum((rank - i) ** 2 for rank, i in enumerate(by_score))
    return 1.0 - 6.0 * d2 / (n * (n * n - 1))


def agreeing_weight(
    scores: list[float], weight: float, low: float, high: float, agree_low: float, agree_high: float
) -> float:
    """The production confidence weight, damped further by :func:`rank_agreement`."""
    damping = ramp(rank_agreement(scores), agree_low, agree_high)
    return effective_weight(scores, weight, low, high) * damping


def dump(corpus: Path, queries: Path, qrels: Path, out: Path, top_n: int = TOP_N) -> None:
    from docent_eval.retrieval_eval import EvalIndex, load_reranker
    from docentlib.datasets import Corpus, load_qrels, load_queries
    from docentlib.passages import rerank_text
    from services.embedding.core import Embedder
    from services.embedding.settings import EmbeddingSettings
    from services.ingestion.settings import IngestSettings
    from services.retrieval.settings import RetrievalSettings
    from services.runtime.settings import default_data_root

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    texts, judged = load_queries(queries), load_qrels(qrels)
    rerank = load_reranker(None)
    index = EvalIndex(
        Corpus.open(corpus),
        default_data_root() / "eval",
        Embedder.load(EmbeddingSettings()),
        IngestSettings(),
        RetrievalSettings(),
    )
    rows = []
    try:
        index.build(progress=False)
        for qid in judged:
            if qid not in texts:
                continue
            hits = index.search(texts[qid], "hybrid")
            keys = [index.corpus.key(h.doc_id, h.source_path) for h in hits]
            head = hits[:top_n]
            scores = rerank(
                texts[qid], [rerank_text(h.title, h.heading_path, h.text) for h in head]
            )
            rows.append({"qid": qid, "keys": keys, "scores": [float(s) for s in scores]})
    finally:
        index.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"qrels": judged, "rows": rows}))


def score(cache: dict, weight: float, adaptive: bool, **params: float) -> float:
    """nDCG@10 of the blend over a dumped cache (``agree_low``/``agree_high`` in ``params``
    add the agreement damping)."""
    runs = {}
    for row in cache["rows"]:
        keys, scores = row["keys"], row["scores"]
        head = len(scores)
        if "agree_low" in params:
            w = agreeing_weight(scores, weight, **params)
            order = blend_rerank(list(range(head)), scores, w, adaptive=False)
        else:
            order = blend_rerank(list(range(head)), scores, weight, adaptive=adaptive, **params)
        runs[row["qid"]] = documents_from_chunks([keys[i] for i in order] + keys[head:])
    qrels = {q: cache["qrels"][q] for q in runs}
    return summarise(runs, qrels)["ndcg@10"]


def grid(paths: list[Path]) -> None:
    caches = {p.stem: json.loads(p.read_text()) for p in paths}
    base = {name: score(c, 0.0, False) for name, c in caches.items()}
    print("hybrid:", {k: round(v, 4) for k, v in base.items()})
    for name, cache in caches.items():
        conf = [rerank_confidence(r["scores"]) for r in cache["rows"]]
        conf.sort()
        print(
            name,
            "confidence quantiles",
            [round(conf[int(q * (len(conf) - 1))], 3) for q in (0.1, 0.5, 0.9)],
        )
    results = []
    for weight in (0.25, 0.5, 1.0, 2.0):
        row = {n: score(c, weight, False) for n, c in caches.items()}
        results.append((f"fixed w={weight}", row))
    for weight, low, high in itertools.product(
        (0.5, 1.0, 2.0), (0.5, 1.0, 1.5, 2.0), (1.0, 2.0, 3.0)
    ):
        row = {n: score(c, weight, True, low=low, high=low + high) for n, c in caches.items()}
        results.append((f"adaptive w={weight} low={low} high={low + high}", row))
    for (low, high), (a_low, a_span) in itertools.product(
        ((1.0, 3.0), (0.5, 3.0), (1.0, 4.0)), ((-0.2, 0.4), (0.0, 0.3), (0.0, 0.6), (0.2, 0.4))
    ):
        params = {"low": low, "high": high, "agree_low": a_low, "agree_high": a_low + a_span}
        row = {n: score(c, 1.0, True, **params) for n, c in caches.items()}
        results.append((f"adaptive+agree {params}", row))
    for label, row in results:
        gains = {n: round(row[n] - base[n], 4) for n in row}
        print(f"{label:<40} min gain {min(gains.values()):+.4f}  {gains}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    for name in ("corpus", "queries", "qrels", "out"):
        d.add_argument(f"--{name}", type=Path, required=True)
    g = sub.add_parser("grid")
    g.add_argument("caches", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.corpus, args.queries, args.qrels, args.out)
    else:
        grid(args.caches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
