"""``docent eval agent``: multi-hop questions through a live gateway's ``POST /v1/agent``.

Each question has an expected answer: a number (right when the answer states it, within a
tolerance) or a name (right when the answer names it before the other candidates the question
mentions, so "Paris is 14.3 °C and Cairo 27.1 °C" is not taken as answering "Cairo"). The
report gives the success rate, mean model steps, the tool errors that came back as
observations and how many of those the run recovered from (it still answered right), and how
often the tools were called in the expected order; every run's trace is saved as JSONL.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from docentlib.errors import InvalidInput

TOOLS_SUFFIX = "\n\nTools used:"
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: str
    kind: str = ""
    tools: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    tolerance: float | None = None


@dataclass
class Outcome:
    """One run: what was asked and answered, whether it was right, and its trace."""

    id: str
    kind: str
    question: str
    expected: str
    answer: str
    correct: bool
    tools: list[str]
    expected_tools: list[str]
    tool_order_ok: bool
    steps: int
    tool_errors: int
    stop_reason: str
    seconds: float
    error: str | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)


def load_questions(path: Path) -> list[Question]:
    """Questions from JSONL; a clear error naming the line and the missing field."""
    if not path.is_file():
        raise InvalidInput(f"questions file not found: {path}")
    questions = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}:{n}: not valid JSON: {exc.msg}") from None
        missing = [k for k in ("id", "question", "expected") if k not in row]
        if missing:
            raise InvalidInput(f"{path}:{n}: missing {', '.join(missing)}")
        questions.append(
            Question(
                id=str(row["id"]),
                question=str(row["question"]),
                expected=str(row["expected"]),
                kind=str(row.get("kind", "")),
                tools=tuple(row.get("tools", ())),
                entities=tuple(row.get("entities", ())),
                tolerance=row.get("tolerance"),
            )
        )
    if not questions:
        raise InvalidInput(f"{path}: no questions")
    return questions


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text`` (thousands separators allowed)."""
    found = []
    for match in _NUMBER.findall(text):
        try:
            found.append(float(match.replace(",", "")))
        except ValueError:
            continue
    return found


def is_correct(answer: str, question: Question) -> bool:
    """Does the answer (without the gateway's "Tools used" line) state the expected answer?"""
    text = answer.split(TOOLS_SUFFIX, 1)[0]
    try:
        target = float(question.expected)
    except ValueError:
        return _names_first(text, question)
    if question.tolerance is not None:
        tolerance = question.tolerance
    else:
        tolerance = 0.051 if "." in question.expected else 1e-9
    return any(abs(value - target) <= tolerance for value in numbers_in(text))


def _names_first(text: str, question: Question) -> bool:
    low = text.lower()
    where = low.find(question.expected.lower())
    if where < 0:
        return False
    rivals = [e for e in question.entities if question.expected.lower() not in e.lower()]
    firsts = [low.find(e.lower()) for e in rivals]
    return all(pos < 0 or pos > where for pos in firsts)


def in_order(called: list[str], expected: Iterable[str]) -> bool:
    """``expected`` is a subsequence of the tools called (retries in between are fine)."""
    calls = iter(called)
    return all(any(c == want for c in calls) for want in expected)


def run_question(
    client: httpx.Client, question: Question, adapter: str | None, max_steps: int | None
) -> Outcome:
    body: dict[str, Any] = {"question": question.question, "stream": False}
    if adapter is not None:
        body["adapter"] = adapter
    if max_steps is not None:
        body["max_steps"] = max_steps
    started = time.perf_counter()
    error: str | None = None
    done: dict[str, Any] = {}
    try:
        reply = client.post("/v1/agent", json=body)
        if reply.status_code == 200:
            done = reply.json()
        else:
            error = f"HTTP {reply.status_code}: {reply.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    steps = done.get("steps", [])
    tools = [s["tool"] for s in steps if s.get("tool")]
    answer = done.get("answer", "")
    return Outcome(
        id=question.id,
        kind=question.kind,
        question=question.question,
        expected=question.expected,
        answer=answer,
        correct=error is None and is_correct(answer, question),
        tools=tools,
        expected_tools=list(question.tools),
        tool_order_ok=in_order(tools, question.tools),
        steps=len(steps),
        tool_errors=int(done.get("metadata", {}).get("tool_errors", 0)),
        stop_reason=str(done.get("metadata", {}).get("stop_reason", "error")),
        seconds=round(seconds, 3),
        error=error,
        trace=steps,
        usage=done.get("usage", {}),
    )


def evaluate(
    url: str,
    questions: list[Question],
    *,
    adapter: str | None = None,
    max_steps: int | None = None,
    api_key: str | None = None,
    timeout: float = 1800.0,
    concurrency: int = 1,
    on_result: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Ask every question, ``concurrency`` at a time (the transformers engine batches them);
    outcomes come back in question order."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with (
        httpx.Client(
            base_url=url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers=headers,
            limits=httpx.Limits(max_connections=max(concurrency, 1)),
        ) as client,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):

        def one(question: Question) -> Outcome:
            outcome = run_question(client, question, adapter, max_steps)
            if on_result is not None:
                on_result(outcome)
            return outcome

        return list(pool.map(one, questions))


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Success rate, mean steps, tool errors and recoveries, tool order, by kind."""
    n = len(outcomes)
    errors = sum(o.tool_errors for o in outcomes)
    recovered = sum(o.tool_errors for o in outcomes if o.correct)
    kinds = Counter(o.kind for o in outcomes)
    return {
        "questions": n,
        "success_rate": round(sum(o.correct for o in outcomes) / n, 4) if n else 0.0,
        "correct": sum(o.correct for o in outcomes),
        "mean_steps": round(sum(o.steps for o in outcomes) / n, 3) if n else 0.0,
        "tool_errors": errors,
        "tool_errors_recovered": recovered,
        "runs_with_tool_errors": sum(o.tool_errors > 0 for o in outcomes),
        "runs_recovered": sum(o.tool_errors > 0 and o.correct for o in outcomes),
        "tool_order_rate": round(sum(o.tool_order_ok for o in outcomes) / n, 4) if n else 0.0,
        "failed_requests": sum(o.error is not None for o in outcomes),
        "stop_reasons": dict(Counter(o.stop_reason for o in outcomes)),
        "by_kind": {
            kind: round(sum(o.correct for o in outcomes if o.kind == kind) / count, 4)
            for kind, count in sorted(kinds.items())
        },
        "mean_seconds": round(sum(o.seconds for o in outcomes) / n, 3) if n else 0.0,
    }


_APPEND = threading.Lock()


def append_trace(path: Path, outcome: Outcome) -> None:
    """One run's trace as a JSONL line (runs end in any order when several are in flight)."""
    with _APPEND, path.open("a") as out:
        out.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
