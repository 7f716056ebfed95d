"""``docent train ...``: fine-tuning jobs (the same code a Kubernetes Job runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.runtime.errors import DocentError

train_app = typer.Typer(help="Fine-tune Docent's models.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@train_app.command("reranker")
def reranker(
    queries: Annotated[
        Path | None, typer.Option(help="BEIR queries.jsonl (labelled mode).")
    ] = None,
    qrels: Annotated[
        Path | None, typer.Option(help="qrels of a TRAIN split (never the one you report).")
    ] = None,
    corpus: Annotated[Path | None, typer.Option(help="BEIR corpus.jsonl (labelled mode).")] = None,
    docs: Annotated[
        Path | None, typer.Option(help="Folder of documents (self-supervised mode).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Model folder (default: where the reranking service loads from)."),
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="Passes over the groups.")] = 1.0,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many steps.")
    ] = None,
    batch_queries: Annotated[int, typer.Option(min=1, help="Queries per step.")] = 8,
    negatives: Annotated[int, typer.Option(min=1, help="Hard negatives per query.")] = 7,
    max_groups: Annotated[
        int, typer.Option(min=1, help="Self-supervised: most (query, passage) groups.")
    ] = 4000,
    learning_rate: Annotated[float, typer.Option(help="AdamW peak learning rate.")] = 5e-5,
    train_layers: Annotated[
        int | None,
        typer.Option(min=1, help="Train only the top N encoder layers (cheaper on CPUs)."),
    ] = None,
    max_length: Annotated[int, typer.Option(min=16, help="Tokens per (query, passage).")] = 256,
    seed: Annotated[int, typer.Option(help="Shuffling and mining seed.")] = 0,
) -> None:
    """Fine-tune a cross-encoder from the packaged MiniLM backbone, from a BEIR train split
    (--queries --qrels --corpus) or self-supervised from a folder (--docs)."""
    labelled = any(p is not None for p in (queries, qrels, corpus))
    if labelled == (docs is not None):
        _fail("give either --queries, --qrels and --corpus, or --docs")
    if labelled and None in (queries, qrels, corpus):
        _fail("labelled mode needs all of --queries, --qrels and --corpus")
    for path in (queries, qrels, corpus, docs):
        if path is not None and not path.exists():
            _fail(f"path does not exist: {path}")
    try:
        result = _train(
            queries,
            qrels,
            corpus,
            docs,
            output,
            epochs,
            max_steps,
            batch_queries,
            negatives,
            max_groups,
            learning_rate,
            max_length,
            seed,
        )
    except DocentError as exc:
        _fail(exc.message)
        return
    typer.echo(
        f"trained {result.steps} steps in {result.seconds:.0f}s "
        f"(loss {result.first_loss:.3f} -> {result.last_loss:.3f}); model in {result.output}"
    )
    typer.echo("the reranking service loads it at its next start")


def _train(
    queries,
    qrels,
    corpus,
    docs,
    output,
    epochs,
    max_steps,
    batch_queries,
    negatives,
    max_groups,
    learning_rate,
    max_length,
    seed,
):
    from docent_training.reranker.data import labelled_groups, self_supervised_groups
    from docent_training.reranker.train import RerankerTrainConfig, train_reranker
    from services.ingestion.tokens import TokenCounter
    from services.reranking.settings import RerankingSettings

    config = RerankerTrainConfig(
        epochs=epochs,
        batch_queries=batch_queries,
        negatives=negatives,
        learning_rate=learning_rate,
        max_length=max_length,
        max_steps=max_steps,
        seed=seed,
    )
    if docs is not None:
        counter = TokenCounter.for_model(config.base_model)
        groups = self_supervised_groups(docs, counter, negatives, max_groups, seed)
    else:
        groups = labelled_groups(corpus, queries, qrels, negatives, seed)
    target = output or RerankingSettings().resolved_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    typer.echo(f"{len(groups)} training groups of 1 positive + {negatives} negatives", err=True)
    return train_reranker(groups, target.resolve(), config)
