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
    harmful: Annotated[
        Path | None, typer.Option(help='Harmful requests (jsonl, {"_id", "text"}).')
    ] = None,
    benign: Annotated[
        Path | None, typer.Option(help="Benign questions the knowledge base answers.")
    ] = None,
    injection: Annotated[Path | None, typer.Option(help="Prompt-injection attempts.")] = None,
    out_of_scope: Annotated[Path | None, typer.Option(help="Questions outside the domain.")] = None,
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
    """Send each set's questions through the gateway; print each rate, whether refusals were
    for the expected reason, and the ids that failed. Without --early-stop whole answers are
    generated, so benign answers cut off by output moderation are counted too."""
    from tqdm import tqdm

    from docent_eval.safety_eval import EXPECTED, SETS, load_cases, run_sets, summary

    given = {"harmful": harmful, "benign": benign, "injection": injection}
    given["out_of_scope"] = out_of_scope
    paths = {name: path for name, path in given.items() if path is not None}
    if not paths:
        _fail("give at least one set: --harmful, --benign, --injection or --out-of-scope")
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
        if name in EXPECTED:
            share = report.expected_reason / report.total if report.total else 0.0
            typer.echo(
                f"    for the expected reason: {report.expected_reason}/{report.total} = "
                f"{share:.1%}; refused for another reason: {', '.join(report.wrong_reason) or '-'}"
            )
        if name == "benign" and not early_stop:
            typer.echo(f"    cut off by output moderation: {report.output_cut_off}/{report.total}")
        if report.categories:
            cats = ", ".join(f"{k} {v}" for k, v in sorted(report.categories.items()))
            typer.echo(f"    categories: {cats}")
        typer.echo(f"    failed: {', '.join(report.failed) or '-'}")
        if report.errors:
            typer.echo(f"    errors: {', '.join(report.errors)}")
    if as_json:
        typer.echo(json.dumps(summary(reports, early_stop)))
