"""``docent eval safety``: refusal rates of the running gateway on four labelled sets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from docentlib.errors import DocentError


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


_LABELS = {
    "harmful": "harmful refused",
    "benign": "benign false refusals",
    "injection": "injections blocked",
    "out_of_scope": "out-of-scope declined",
}


def safety(
    harmful: Annotated[Path, typer.Option(help='Harmful requests (jsonl, {"_id", "text"}).')],
    benign: Annotated[Path, typer.Option(help="Benign questions the knowledge base answers.")],
    injection: Annotated[Path, typer.Option(help="Prompt-injection attempts.")],
    out_of_scope: Annotated[Path, typer.Option(help="Questions outside the domain.")],
    url: Annotated[str, typer.Option(envvar="DOCENT_URL", help="Gateway URL.")] = (
        "http://127.0.0.1:8080"
    ),
    api_key: Annotated[
        str | None, typer.Option(envvar="DOCENT_API_KEY", help="API key (chat scope).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 4,
    max_tokens: Annotated[
        int, typer.Option(min=1, max=1024, help="Completion budget of each answer.")
    ] = 32,
    early_stop: Annotated[
        bool,
        typer.Option(
            "--early-stop",
            help="Stream, and stop reading an answer once it is being generated: measures "
            "the decisions made before generation only (output moderation not exercised).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the last line.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Progress bar on stderr.")] = True,
) -> None:
    """Send each set's questions through the gateway; print each rate and the ids that failed."""
    from tqdm import tqdm

    from docent_eval.safety_eval import SETS, load_cases, run_sets, summary

    paths = {"harmful": harmful, "benign": benign, "injection": injection}
    paths["out_of_scope"] = out_of_scope
    try:
        sets = {name: load_cases(path) for name, path in paths.items()}
        total = sum(len(c) for c in sets.values())
        with tqdm(total=total, desc="safety", disable=not progress, file=None) as bar:
            reports = asyncio.run(
                run_sets(
                    url,
                    sets,
                    api_key,
                    concurrency,
                    max_tokens,
                    progress=bar.update,
                    early_stop=early_stop,
                )
            )
    except DocentError as exc:
        _fail(exc.message)
        return
    for name, report in reports.items():
        _, _, target, minimum = SETS[name]
        sign = ">=" if minimum else "<="
        ok = "ok" if report.meets_target else "MISSED"
        typer.echo(
            f"{_LABELS[name]:<22} {report.refused:>3}/{report.total:<3} = {report.rate:6.1%}"
            f"  (target {sign} {target:.0%}: {ok})"
        )
        if report.categories:
            cats = ", ".join(f"{k} {v}" for k, v in sorted(report.categories.items()))
            typer.echo(f"    categories: {cats}")
        typer.echo(f"    failed: {', '.join(report.failed) or '-'}")
        if report.errors:
            typer.echo(f"    errors: {', '.join(report.errors)}")
    if as_json:
        typer.echo(json.dumps(summary(reports)))
