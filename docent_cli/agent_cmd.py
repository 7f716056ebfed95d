"""``docent agent "question"``: the agent's steps as they happen, then its answer."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from docent_cli.agent_options import Adapter, ApiKey, MaxSteps


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def agent(
    question: Annotated[str, typer.Argument(help="Your question.")],
    url: Annotated[
        str, typer.Option(envvar="DOCENT_URL", help="Gateway URL.")
    ] = "http://127.0.0.1:8080",
    api_key: ApiKey = None,
    adapter: Adapter = None,
    max_steps: MaxSteps = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each event as one JSON line instead.")
    ] = False,
) -> None:
    """Answer a question by reasoning and calling tools; each step streams as it happens."""
    import httpx

    from docentlib.gateway_client import ChatError, stream_agent

    try:
        for event in stream_agent(
            url, question, adapter=adapter, max_steps=max_steps, api_key=api_key
        ):
            data = event.data
            if as_json:
                typer.echo(json.dumps({"event": event.event, **data}, ensure_ascii=False))
                if event.event == "error":
                    raise typer.Exit(1)
                continue
            if event.event == "thought":
                typer.secho(f"[{data['step']}] thought: {data['text']}", dim=True)
            elif event.event == "action":
                args = json.dumps(data["arguments"], ensure_ascii=False)
                typer.secho(f"[{data['step']}] action: {data['tool']} {args}", fg=typer.colors.CYAN)
            elif event.event == "observation":
                color = typer.colors.RED if data.get("error") else typer.colors.GREEN
                typer.secho(f"[{data['step']}] observation: {data['text']}", fg=color)
            elif event.event == "answer":
                typer.echo(f"\n{data['text']}")
            elif event.event == "error":
                _fail(data.get("error", {}).get("message", "the agent failed"))
            elif event.event == "done":
                meta = data.get("metadata", {})
                usage = data.get("usage", {})
                tokens = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
                total = data.get("timings", {}).get("total", 0.0)
                typer.secho(
                    f"\n{len(data.get('steps', []))} steps, stop: {meta.get('stop_reason')}, "
                    f"{tokens} tokens, {total:.1f}s",
                    dim=True,
                )
                for s in data.get("sources", []):
                    mark = "*" if s.get("n") in data.get("citations", []) else " "
                    typer.echo(f" {mark}[{s.get('n')}] {s.get('title')} ({s.get('source_path')})")
    except ChatError as exc:
        _fail(str(exc))
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the gateway at {url}: {exc}")
