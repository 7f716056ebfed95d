"""``docent bench retrieval`` / ``make bench``: retrieval on the Kubernetes corpus, in one run.

Prints a table and writes ``bench/out/retrieval.json`` and ``bench/out/retrieval_latency.png``:

* per mode (sparse, dense, hybrid, hybrid+rerank): queries/s, p50/p95 latency and nDCG@10 on
  the hand-written support questions (``tests/data/k8s-support``);
* encoding throughput of Docent's embedder against plain sentence-transformers on the same
  chunk texts, batches alternating;
* the embedded BM25 engine (tantivy) beside bm25s and rank_bm25 on the same chunks and queries;
* HNSW (and IVF-PQ) recall@10 against exact search over every chunk vector;
* optionally (``--scifact``) encoding speed and dense nDCG@10 on SciFact with both encoders.

    python -m bench.retrieval_bench --reranker ~/.local/share/docent/reranking/model
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.encoding import scifact_dense_ndcg, side_by_side
from docent_eval.retrieval_eval import EvalIndex, evaluate
from docentlib.bm25 import STOPWORDS, body_text
from docentlib.datasets import Corpus, load_qrels, load_queries
from docentlib.metrics import documents_from_chunks, ndcg_at_k, percentile
from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings
from services.ingestion.settings import IngestSettings
from services.retrieval.dense.faiss_index import DenseParams, FaissIndex
from services.retrieval.docstore import DocStore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse.tantivy_index import TantivyIndex
from services.runtime.settings import default_data_root

_WORD = re.compile(r"[^\W_]+")
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT.parent / "shared" / "data" / "kubernetes-docs" / "docs"
QUESTIONS = ROOT / "tests" / "data" / "k8s-support"
OUT = ROOT / "bench" / "out"


def _entries(index: EvalIndex):
    store = DocStore(index.directory / "docstore.sqlite3")
    try:
        entries = [e for batch in store.iter_entries() for e in batch]
        paths = {i: c.source_path for i, c in store.get_chunks([e.id for e in entries]).items()}
    finally:
        store.close()
    return entries, paths


def bm25_engines(index, entries, paths, queries, qrels) -> list[dict]:
    """Each BM25 library indexes the same chunk bodies and answers the same queries."""
    import bm25s
    import Stemmer
    from rank_bm25 import BM25Okapi

    bodies = [body_text(e.text, e.title, e.heading_path) for e in entries]
    ids = [e.id for e in entries]
    stemmer = Stemmer.Stemmer("english")
    rows = []

    def measure(name, build, search):
        t = time.perf_counter()
        state = build()
        built = time.perf_counter() - t
        latencies, ndcgs = [], []
        for qid, text in tqdm(queries.items(), desc=name, unit="query"):
            t = time.perf_counter()
            ranked = search(state, text)
            latencies.append((time.perf_counter() - t) * 1000)
            docs = documents_from_chunks([paths[i] for i in ranked])
            ndcgs.append(ndcg_at_k(docs, qrels[qid], 10))
        rows.append(
            {
                "engine": name,
                "index_s": round(built, 2),
                "qps": round(len(latencies) / (sum(latencies) / 1000), 1),
                "p50_ms": round(percentile(latencies, 50), 2),
                "p95_ms": round(percentile(latencies, 95), 2),
                "ndcg@10": round(float(np.mean(ndcgs)), 4),
            }
        )

    def tantivy_build():
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="bench-bm25-"))
        engine = TantivyIndex(tmp / "bm25")
        engine.upsert([(e.id, e.text, e.title, e.heading_path) for e in entries])
        engine.commit(1)
        return engine

    measure("tantivy (Docent)", tantivy_build, lambda s, q: [i for i, _ in s.search(q, 300)])

    def bm25s_build():
        tokens = bm25s.tokenize(bodies, stopwords="en", stemmer=stemmer, show_progress=False)
        engine = bm25s.BM25()
        engine.index(tokens, show_progress=False)
        return engine

    def bm25s_search(engine, q):
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        found, _ = engine.retrieve(tokens, k=300, show_progress=False, n_threads=1)
        return [ids[j] for j in found[0]]

    measure("bm25s", bm25s_build, bm25s_search)

    def words(text):
        return [stemmer.stemWord(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]

    def rank_build():
        return BM25Okapi([words(b) for b in bodies])

    def rank_search(engine, q):
        scores = engine.get_scores(words(q))
        return [ids[j] for j in np.argsort(-scores)[:300]]

    measure("rank_bm25", rank_build, rank_search)
    return rows


def ann_recall(entries, queries_vectors) -> list[dict]:
    """recall@10 of each approximate index against exact search, over every chunk vector."""
    ids = np.array([e.id for e in entries], dtype=np.int64)
    vectors = np.stack([e.vector for e in entries])
    rng = np.random.default_rng(0)
    probes = np.concatenate([queries_vectors, vectors[rng.choice(len(vectors), 500, False)]])
    exact = FaissIndex(vectors.shape[1], DenseParams(kind="flat"))
    exact.add(ids, vectors)
    truth = [{i for i, _ in exact.search(q, 10)} for q in probes]
    rows = []
    for kind in ("flat", "hnsw", "ivfpq"):
        t = time.perf_counter()
        index = FaissIndex(vectors.shape[1], DenseParams(kind=kind))  # type: ignore[arg-type]
        index.add(ids, vectors)
        built = time.perf_counter() - t
        latencies, found = [], 0
        for q, want in zip(probes, truth, strict=True):
            t = time.perf_counter()
            hits = index.search(q, 10)
            latencies.append((time.perf_counter() - t) * 1000)
            found += len(want & {i for i, _ in hits})
        rows.append(
            {
                "index": f"{kind} ({index.trained_kind})",
                "vectors": len(ids),
                "build_s": round(built, 2),
                "recall@10": round(found / (10 * len(probes)), 4),
                "p50_ms": round(percentile(latencies, 50), 3),
                "p95_ms": round(percentile(latencies, 95), 3),
            }
        )
    return rows


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    line = "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))
    body = ["  ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)) for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def _plot(latencies: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.boxplot(list(latencies.values()), showfliers=True)
    ax.set_xticks(range(1, len(latencies) + 1), list(latencies))
    ax.set_ylabel("search latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Retrieval latency per mode, Kubernetes docs")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(reranker: Path | None, scifact: bool, encode_sample: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    embedder = Embedder.load(EmbeddingSettings(max_batch=4096))
    index = EvalIndex(
        Corpus.open(DOCS),
        default_data_root() / "eval",
        embedder,
        IngestSettings(),
        RetrievalSettings(),
    )
    docs, chunks, seconds = index.build()
    results["corpus"] = {"documents": docs, "chunks": chunks, "index_s": round(seconds, 1)}
    if seconds:
        results["corpus"].update(
            docs_per_s=round(docs / seconds, 2), chunks_per_s=round(chunks / seconds, 1)
        )
    queries = load_queries(QUESTIONS / "queries.jsonl")
    qrels = load_qrels(QUESTIONS / "qrels.tsv")
    rerank = None
    if reranker is not None:
        from docent_eval.retrieval_eval import load_reranker

        rerank = load_reranker(reranker)
    modes, latencies = [], {}
    for mode in ("sparse", "dense", "hybrid", "hybrid+rerank"):
        if mode == "hybrid+rerank" and rerank is None:
            continue
        report = evaluate(index, queries, qrels, mode, rerank)
        row = report.as_dict()
        total = sum(report.latencies_ms) / 1000
        modes.append(
            {
                "mode": mode,
                "qps": round(report.queries / total, 1),
                "p50_ms": row["p50_ms"],
                "p95_ms": row["p95_ms"],
                "ndcg@10": row["ndcg@10"],
                "recall@100": row["recall@100"],
                "hit@5": row["hit@5"],
            }
        )
        latencies[mode] = report.latencies_ms
    results["modes"] = modes
    _plot(latencies, OUT / "retrieval_latency.png")
    entries, paths = _entries(index)
    index.close()
    sample = [f"{e.title} > {' > '.join(e.heading_path)}\n{e.text}" for e in entries]
    rng = np.random.default_rng(0)
    picked = [sample[i] for i in rng.choice(len(sample), min(encode_sample, len(sample)), False)]
    encoding = side_by_side(picked, label="k8s chunks")
    results["encoding"] = {
        k: (round(v, 2) if isinstance(v, float) else v)
        for k, v in encoding.items()
        if k != "vectors"
    }
    results["bm25"] = bm25_engines(index, entries, paths, queries, qrels)
    query_vectors = embedder.embed(list(queries.values()))
    results["ann"] = ann_recall(entries, query_vectors)
    if scifact:
        results["scifact_encoding"] = {k: round(v, 4) for k, v in scifact_dense_ndcg().items()}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reranker", type=Path, default=None, help="cross-encoder folder")
    parser.add_argument("--scifact", action="store_true", help="also SciFact encoding + nDCG")
    parser.add_argument("--encode-sample", type=int, default=2000, help="chunks to encode")
    args = parser.parse_args()
    results = run(args.reranker, args.scifact, args.encode_sample)
    (OUT / "retrieval.json").write_text(json.dumps(results, indent=2))
    print(f"\nKubernetes docs: {results['corpus']}")
    print("\nRetrieval per mode (support questions)\n" + _table(results["modes"]))
    enc = results["encoding"]
    print(
        f"\nEncoding {enc['texts']} chunks: plain sentence-transformers {enc['plain_per_s']}/s, "
        f"Docent ({enc['dtype']}) {enc['docent_per_s']}/s: {enc['speedup']}x"
    )
    print("\nBM25 engines, same chunks and queries\n" + _table(results["bm25"]))
    print("\nDense indexes against exact search\n" + _table(results["ann"]))
    if "scifact_encoding" in results:
        print(f"\nSciFact encoding and dense nDCG@10: {results['scifact_encoding']}")
    print(f"\nwritten: {OUT / 'retrieval.json'}, {OUT / 'retrieval_latency.png'}")


if __name__ == "__main__":
    main()
