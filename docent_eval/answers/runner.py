"""``docent eval answers``: ask every question of each system, score, compare, cost.

Systems are asked one after the other (never at once), so one's load does not slow the
other's latency; within a system ``concurrency`` questions are in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from tqdm import tqdm

from docent_eval.answers.cost import Price, cheaper_factor, summary_sentence
from docent_eval.answers.judge import Judge
from docent_eval.answers.metrics import SupportJudge
from docent_eval.answers.questions import Question
from docent_eval.answers.scoring import Row, score_reply, summarise, win_rate
from docent_eval.answers.targets import DocentTarget, OpenAITarget, Reply, first_model
from docentlib.answer_format import closed_book_prompt

NO_RETRIEVAL = "no-retrieval"
ADAPTER_PREFIX = "adapter:"  # --against adapter:NAME: the same stack with another adapter
TIMEOUT_S = 900.0


@dataclass
class Endpoint:
    """An HTTP endpoint with an optional bearer key (and model, for OpenAI-compatible ones)."""

    url: str
    key: str | None = None
    model: str | None = None

    def client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return httpx.AsyncClient(base_url=self.url.rstrip("/"), headers=headers, timeout=TIMEOUT_S)


@dataclass
class EvalConfig:
    gateway: Endpoint
    questions: list[Question]
    against: str | Endpoint | None = None  # NO_RETRIEVAL, another system, or nothing
    judge: Endpoint | None = None
    concurrency: int = 1
    max_tokens: int | None = None
    price: Price = field(default_factory=Price)
    against_price: Price = field(default_factory=Price)
    domain: str = "the documents in this knowledge base"
    progress: bool = True
    adapter: str | None = None  # the adapter Docent's answers use (None: the gateway's setting)


@dataclass
class SystemRun:
    name: str
    rows: list[Row]
    summary: dict


async def run_system(
    name: str, ask: Callable, config: EvalConfig, support: SupportJudge
) -> SystemRun:
    """Every question to one system; each reply scored as it arrives."""
    slots = asyncio.Semaphore(config.concurrency)
    bar = tqdm(total=len(config.questions), desc=name, unit="q", disable=not config.progress)

    async def one(q: Question) -> Row:
        async with slots:
            try:
                reply = await ask(q.text)
            except httpx.HTTPError as exc:
                reply = Reply(error=f"{type(exc).__name__}: {exc}")
        row = await asyncio.to_thread(score_reply, q, name, reply, support)
        bar.update()
        return row

    start = time.perf_counter()
    rows = list(await asyncio.gather(*(one(q) for q in config.questions)))
    wall = time.perf_counter() - start
    bar.close()
    return SystemRun(name, rows, summarise(rows, wall))


async def judge_rows(judge: Judge, questions: dict[str, Question], rows: list[Row]) -> None:
    """The judge's 1-5 score on every answered row (in place)."""
    for row in rows:
        if row.error is None:
            q = questions[row.id]
            row.judge = await judge.score(q.text, q.reference, row.answer)


async def evaluate(config: EvalConfig, support: SupportJudge) -> dict:
    """The whole evaluation as one JSON-ready dict (``summary`` holds the last-line keys)."""
    questions = {q.id: q for q in config.questions}
    async with config.gateway.client() as gateway:
        docent = DocentTarget(gateway, max_tokens=config.max_tokens, adapter=config.adapter)
        runs = [await run_system("docent", docent.ask, config, support)]
        other_label = None
        if config.against == NO_RETRIEVAL:
            closed = DocentTarget(gateway, retrieval=False, max_tokens=config.max_tokens)
            runs.append(await run_system(NO_RETRIEVAL, closed.ask, config, support))
            other_label = "the same model without retrieval"
        elif isinstance(config.against, str) and config.against.startswith(ADAPTER_PREFIX):
            name = config.against.removeprefix(ADAPTER_PREFIX)
            other = DocentTarget(gateway, max_tokens=config.max_tokens, adapter=name)
            runs.append(await run_system(config.against, other.ask, config, support))
            other_label = f"the same stack with {f'adapter {name}' if name else 'the base model'}"
        elif isinstance(config.against, Endpoint):
            async with config.against.client() as client:
                model = config.against.model or await first_model(client)
                target = OpenAITarget(
                    client,
                    model,
                    system=closed_book_prompt(config.domain),
                    max_tokens=config.max_tokens,
                )
                runs.append(await run_system("reference", target.ask, config, support))
            other_label = f"the reference ({model})"
        pairwise = None
        if config.judge is not None:
            async with config.judge.client() as client:
                judge = Judge(client, config.judge.model or await first_model(client))
                for run in runs:
                    await judge_rows(judge, questions, run.rows)
                    run.summary["judge_score"] = _mean_judge(run.rows)
                if len(runs) == 2:
                    pairwise = await _pairwise(judge, questions, runs[0].rows, runs[1].rows)
    return _result(config, runs, pairwise, other_label)


async def _pairwise(
    judge: Judge, questions: dict[str, Question], mine: list[Row], theirs: list[Row]
) -> dict[str, float]:
    other = {r.id: r for r in theirs}
    outcomes: dict[str, float] = {}
    for row in mine:
        their = other.get(row.id)
        if row.error or their is None or their.error:
            continue
        q = questions[row.id]
        outcome = await judge.compare(q.text, q.reference, row.answer, their.answer)
        if outcome is not None:
            outcomes[row.id] = outcome
    return outcomes


def _mean_judge(rows: list[Row]) -> float | None:
    scores = [r.judge for r in rows if r.judge is not None]
    return round(sum(scores) / len(scores), 4) if scores else None


def _result(
    config: EvalConfig, runs: list[SystemRun], pairwise: dict | None, label: str | None
) -> dict:
    docent = runs[0].summary
    docent["cost_per_1k"] = config.price.per_1k_answers(docent)
    summary = {k: docent[k] for k in SUMMARY_KEYS}
    result: dict = {"systems": {r.name: r.summary for r in runs}, "rows": []}
    other = runs[1].summary if len(runs) == 2 else None
    factor = None
    if other is not None:
        same_stack = isinstance(config.against, str)  # no-retrieval or adapter:NAME
        price = config.price if same_stack else config.against_price
        other["cost_per_1k"] = price.per_1k_answers(other)
        factor = cheaper_factor(docent["cost_per_1k"], other["cost_per_1k"])
        wins = win_rate(runs[0].rows, runs[1].rows, pairwise)
        summary.update(win_rate=wins["win_rate"], compared_by=wins["by"])
        summary["against"] = {k: other.get(k) for k in SUMMARY_KEYS if k in other}
        summary["cheaper_factor"] = factor
    summary["cost_per_1k"] = docent["cost_per_1k"]
    result["summary"] = summary
    result["sentence"] = summary_sentence(docent, other, label or "", factor)
    result["rows"] = [row.as_dict() for run in runs for row in run.rows]
    return result


SUMMARY_KEYS = (
    "correctness",
    "token_f1",
    "judge_score",
    "groundedness",
    "reference_support",
    "citation_precision",
    "model_cited",
    "refusal_rate",
    "refusal_accuracy",
    "ttft_p95_ms",
    "e2e_p95_ms",
    "questions",
    "errors",
)
