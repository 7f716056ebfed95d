"""``docent bench retrieval``: the retrieval benchmark of ``bench/retrieval_bench.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

REPO = Path(__file__).resolve().parents[2]


def bench_retrieval(
    reranker: Annotated[Path | None, typer.Option(help="Cross-encoder folder.")] = None,
    scifact: Annotated[bool, typer.Option(help="Also SciFact encoding speed and nDCG.")] = False,
    encode_sample: Annotated[int, typer.Option(min=16, help="Chunks encoded per encoder.")] = 2000,
) -> None:
    """Per-mode QPS and latency, encoding speed, BM25 engines and ANN recall on the Kubernetes
    docs (needs a source checkout beside ../shared, as the benchmark data lives there)."""
    if not (REPO / "bench" / "retrieval_bench.py").exists():
        typer.secho("error: docent bench retrieval runs from a source checkout", err=True)
        raise typer.Exit(1)
    sys.path.insert(0, str(REPO))
    from bench import retrieval_bench

    argv = ["retrieval_bench", "--encode-sample", str(encode_sample)]
    if reranker is not None:
        argv += ["--reranker", str(reranker)]
    if scifact:
        argv.append("--scifact")
    sys.argv = argv
    retrieval_bench.main()
