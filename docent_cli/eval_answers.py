"""``docent eval answers``: correctness, groundedness, citations, refusals, latency and cost of
the running gateway's answers, alone or against no retrieval or another system."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from docentlib.errors import DocentError

URL_PREFIXES = ("http://", "https://")
QUESTIONS_HELP = (
    'Questions (jsonl: "_id", "text", optional "reference", "must_contain", "relevant", '
    '"expect_refusal").'
)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _endpoint(url: str, option: str, key: str | None, model: str | None):
    from docent_eval.answers.runner import Endpoint

    if not url.startswith(URL_PREFIXES):
        _fail(f"{option} must be no-retrieval or an http(s) URL, got {url!r}")
    return Endpoint(url, key, model)


def answers(
    questions: Annotated[Path, typer.Option(help=QUESTIONS_HELP)],
    url: Annotated[str, typer.Option(envvar="DOCENT_URL", help="Gateway URL.")] = (
        "http://127.0.0.1:8080"
    ),
    api_key: Annotated[
        str | None,
        typer.Option(envvar="DOCENT_API_KEY", help="API key (admin scope for no-retrieval)."),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            help="no-retrieval (the same model without passages), adapter:NAME (the same stack "
            "answering with another LoRA adapter; adapter: alone is the base model) or the URL "
            "of any OpenAI-compatible server as the reference system."
        ),
    ] = None,
    adapter: Annotated[
        str | None,
        typer.Option(
            help="LoRA adapter Docent answers with (a name the generation service serves; "
            '"" the base model; admin scope). Default: the gateway\'s setting.'
        ),
    ] = None,
    against_model: Annotated[
        str | None, typer.Option(help="Model of --against URL (default: its first model).")
    ] = None,
    against_key: Annotated[
        str | None, typer.Option(envvar="DOCENT_AGAINST_API_KEY", help="Key of --against URL.")
    ] = None,
    judge: Annotated[
        str | None, typer.Option(help="OpenAI-compatible URL of a judge model (rubric, wins).")
    ] = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model (default: first).")] = None,
    judge_key: Annotated[
        str | None, typer.Option(envvar="DOCENT_JUDGE_API_KEY", help="Key of --judge.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Questions in flight.")] = 1,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, max=1024, help="Completion budget of every answer.")
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="First N questions only (0: all).")] = 0,
    price_per_hour: Annotated[
        float | None, typer.Option(min=0, help="Price of Docent's machine per hour.")
    ] = None,
    against_price_per_hour: Annotated[
        float | None, typer.Option(min=0, help="Price per hour of the --against machine.")
    ] = None,
    against_price_per_mtok: Annotated[
        float | None, typer.Option(min=0, help="Hosted --against price per million tokens.")
    ] = None,
    domain: Annotated[
        str, typer.Option(help="What the assistant covers (the reference system's prompt).")
    ] = "the documents in this knowledge base",
    report: Annotated[
        Path | None, typer.Option(help="Write report.md, result.json and PNG plots here.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the last line.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Progress bars on stderr.")] = True,
) -> None:
    """Ask every question, score each answer, compare, and print the figures."""
    from docent_eval.answers.cost import Price
    from docent_eval.answers.questions import load_questions
    from docent_eval.answers.runner import ADAPTER_PREFIX, NO_RETRIEVAL, Endpoint, EvalConfig

    if not url.startswith(URL_PREFIXES):
        _fail(f"--url must be an http(s) URL, got {url!r}")
    other = None
    if against == NO_RETRIEVAL or (against or "").startswith(ADAPTER_PREFIX):
        other = against
    elif against is not None:
        other = _endpoint(against, "--against", against_key, against_model)
    if against_price_per_hour is not None and against_price_per_mtok is not None:
        _fail("give --against-price-per-hour or --against-price-per-mtok, not both")
    try:
        config = EvalConfig(
            gateway=Endpoint(url, api_key),
            questions=load_questions(questions, limit),
            against=other,
            judge=_endpoint(judge, "--judge", judge_key, judge_model) if judge else None,
            concurrency=concurrency,
            max_tokens=max_tokens,
            price=Price(per_hour=price_per_hour),
            against_price=Price(against_price_per_hour, against_price_per_mtok),
            domain=domain,
            progress=progress,
            adapter=adapter,
        )
        result, human = asyncio.run(_run(config, report is not None))
    except DocentError as exc:
        _fail(exc.message)
        return
    except OSError as exc:  # connection refused, unreachable host
        _fail(f"could not reach {url}: {exc}")
        return
    _print(result)
    if report is not None:
        from docent_eval.answers.report import write_report

        typer.echo(f"report: {write_report(result, human, report)}")
    if as_json:
        typer.echo(json.dumps(result["summary"]))


async def _run(config, with_human: bool) -> tuple[dict, dict | None]:
    import httpx

    from docent_eval.answers.human import fetch_export, human_scores
    from docent_eval.answers.runner import evaluate

    support = await asyncio.to_thread(_support_judge)
    try:
        result = await evaluate(config, support)
    except httpx.HTTPStatusError as exc:
        raise DocentError(f"{exc.request.url} answered HTTP {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise DocentError(f"request failed: {type(exc).__name__}: {exc}") from None
    human = None
    if with_human:
        async with config.gateway.client() as client:
            export = await fetch_export(client)
        ids, texts = {q.id for q in config.questions}, frozenset(q.text for q in config.questions)
        human = human_scores(export or {}, ids, texts)
    return result, human


def _support_judge():
    """The support judge with the embedding service's default model, loaded in process."""
    import numpy as np

    from docent_eval.answers.metrics import SupportJudge
    from services.embedding.core import Embedder
    from services.embedding.settings import EmbeddingSettings

    settings = EmbeddingSettings()
    embedder = Embedder.load(settings)
    size, chars = settings.max_batch, settings.max_text_chars

    def embed(texts: list[str]) -> np.ndarray:
        clipped = [t[:chars] if t.strip() else "." for t in texts]
        parts = [embedder.embed(clipped[i : i + size]) for i in range(0, len(clipped), size)]
        return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)

    return SupportJudge(embed)


def _print(result: dict) -> None:
    typer.echo(result["sentence"])
    names = list(result["systems"])
    typer.echo(f"  {'':<20}" + "".join(f"{n:>16}" for n in names))
    for key in (
        "correctness", "token_f1", "judge_score", "groundedness", "reference_support",
        "citation_precision", "model_cited", "refusal_rate", "refusal_accuracy", "ttft_p95_ms",
        "e2e_p95_ms", "answers_per_hour", "cost_per_1k", "errors",
    ):  # fmt: skip
        cells = "".join(f"{_fmt(result['systems'][n].get(key)):>16}" for n in names)
        typer.echo(f"  {key:<20}{cells}")
    if (win := result["summary"].get("win_rate")) is not None:
        typer.echo(f"  win rate {win:.3f} (by the {result['summary']['compared_by']})")


def _fmt(value: object) -> str:
    return "n/a" if value is None else str(value)
