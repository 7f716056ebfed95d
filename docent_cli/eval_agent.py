"""``docent eval agent``: success of the agent on multi-hop questions through a live gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from docent_cli.agent_options import Adapter, ApiKey, MaxSteps
from docentlib.errors import DocentError


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def agent(
    questions: Annotated[
        Path, typer.Option(help='Questions (jsonl: {"id", "question", "expected", ...}).')
    ],
    url: Annotated[str, typer.Option(envvar="DOCENT_URL", help="Gateway URL.")] = (
        "http://127.0.0.1:8080"
    ),
    api_key: ApiKey = None,
    adapter: Adapter = None,
    max_steps: MaxSteps = None,
    traces: Annotated[
        Path | None, typer.Option(help="JSONL of every run's trace (default beside questions).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Questions in flight (the engine batches them).")
    ] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the last line.")
    ] = False,
) -> None:
    """Ask each question through POST /v1/agent; print success rate, steps and tool errors."""
    from docent_eval.agent_eval import append_trace, evaluate, load_questions, summary

    try:
        chosen = load_questions(questions)[:limit]
    except DocentError as exc:
        _fail(exc.message)
        return
    target = traces or Path(f"agent-traces-{adapter or 'default'}.jsonl")

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")

    def report(outcome) -> None:
        append_trace(target, outcome)  # as each run ends, so a cut-short run keeps its traces
        mark = "ok  " if outcome.correct else "FAIL"
        typer.echo(
            f"{mark} {outcome.id}: {' > '.join(outcome.tools) or '-'} "
            f"({outcome.steps} steps, {outcome.seconds:.0f}s)",
            err=True,
        )

    outcomes = evaluate(
        url,
        chosen,
        adapter=adapter,
        max_steps=max_steps,
        api_key=api_key,
        concurrency=concurrency,
        on_result=report,
    )
    result = {**summary(outcomes), "adapter": adapter, "traces": str(target)}
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"success rate      {result['success_rate']:.1%} ({result['correct']}/{len(outcomes)})"
    )
    typer.echo(f"mean steps        {result['mean_steps']:.2f}")
    typer.echo(
        f"tool errors       {result['tool_errors']} ({result['tool_errors_recovered']} in runs "
        "that still answered right)"
    )
    typer.echo(f"tools in order    {result['tool_order_rate']:.1%}")
    typer.echo(f"by kind           {result['by_kind']}")
    typer.echo(f"traces            {target}")
