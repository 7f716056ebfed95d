"""``docent eval retrieval``: nDCG@10, recall@100, MRR@10, hit@k and latency of one mode."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from docent_cli.eval_agent import agent as eval_agent
from docent_cli.eval_answers import answers as eval_answers
from docent_cli.eval_model import model as eval_model
from docent_cli.eval_safety import safety
from docentlib.errors import DocentError
from services.runtime.settings import default_data_root

eval_app = typer.Typer(help="Measure retrieval (and more) on labelled data.", no_args_is_help=True)
eval_app.command("safety")(safety)
eval_app.command("model")(eval_model)
eval_app.command("agent")(eval_agent)
eval_app.command("answers")(eval_answers)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@eval_app.command("retrieval")
def retrieval(
    corpus: Annotated[Path, typer.Option(help="BEIR corpus.jsonl, or a folder of documents.")],
    queries: Annotated[Path, typer.Option(help='queries.jsonl ({"_id", "text"} per line).')],
    qrels: Annotated[Path, typer.Option(help="qrels .tsv: query-id, corpus-id, score.")],
    mode: Annotated[str, typer.Option(help="sparse, dense, hybrid or hybrid+rerank.")] = "hybrid",
    reranker: Annotated[
        Path | None,
        typer.Option(help="Cross-encoder folder (default: the reranking service's model)."),
    ] = None,
    rerank_top_n: Annotated[int, typer.Option(min=1, help="Chunks the reranker reorders.")] = 30,
    rerank_weight: Annotated[
        float, typer.Option(min=0.0, help="Cross-encoder weight in the rank blend.")
    ] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the last line.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Progress bars on stderr.")] = True,
) -> None:
    """Index the corpus in process (cached), run every judged query, print the metrics."""
    from docent_eval.retrieval_eval import MODES

    if mode not in MODES:
        _fail(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    for name, path in (("--corpus", corpus), ("--queries", queries), ("--qrels", qrels)):
        if not path.exists():
            _fail(f"{name} path does not exist: {path}")
    try:
        report, built = _run(
            corpus, queries, qrels, mode, reranker, rerank_top_n, rerank_weight, progress
        )
    except DocentError as exc:
        _fail(exc.message)
        return
    row = report.as_dict()
    docs, chunks, seconds = built
    if seconds:
        typer.echo(f"indexed {docs} documents as {chunks} chunks in {seconds:.1f}s", err=True)
    typer.echo(f"mode {mode}: {report.queries} queries, {docs} documents, {chunks} chunks")
    for key in ("ndcg@10", "recall@100", "mrr@10", "hit@1", "hit@5", "hit@10", "p50_ms", "p95_ms"):
        typer.echo(f"  {key:<11} {row[key]}")
    if as_json:
        typer.echo(json.dumps(row))


def _run(corpus, queries, qrels, mode, reranker, top_n, weight, progress):
    from docent_eval.retrieval_eval import EvalIndex, evaluate, load_reranker
    from docentlib.datasets import Corpus, load_qrels, load_queries
    from services.embedding.core import Embedder
    from services.embedding.settings import EmbeddingSettings
    from services.ingestion.settings import IngestSettings
    from services.retrieval.settings import RetrievalSettings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    query_texts, judgements = load_queries(queries), load_qrels(qrels)
    rerank = load_reranker(reranker) if mode == "hybrid+rerank" else None
    embedder = Embedder.load(EmbeddingSettings())
    index = EvalIndex(
        Corpus.open(corpus),
        default_data_root() / "eval",
        embedder,
        IngestSettings(),
        RetrievalSettings(),
    )
    try:
        built = index.build(progress)
        report = evaluate(
            index, query_texts, judgements, mode, rerank, top_n, weight, progress=progress
        )
    finally:
        index.close()
    return report, built
