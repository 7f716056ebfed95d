"""``docent eval answers`` end to end, as a user runs it, against the real stack.

Both comparison modes on a small set: ``--against no-retrieval`` (the same model without
passages) and ``--against URL`` with ``--judge URL``. The URL is the gateway's own
OpenAI-compatible API (/v1/chat/completions): a real OpenAI-compatible server, the only one
this machine has; against a hosted model or a vLLM server the command is the same.

The evaluation asks a gateway process of its own (on the stack's services): its answers are
stored as conversations and its review items rated, which other tests of the session's
gateway must not see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.conftest import Stack, gateway_process
from tests.e2e.corpus import ingest, link_corpus

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {
        "_id": "e2e-1",
        "text": "How do I roll back a Deployment to a previous revision?",
        "reference": "Run kubectl rollout undo deployment/<name>; add --to-revision to pick one.",
        "must_contain": ["rollout undo"],
    },
    {
        "_id": "e2e-2",
        "text": "What does a Deployment's revisionHistoryLimit control?",
        "reference": "How many old ReplicaSets are kept for rollback; the default is 10.",
        "must_contain": ["ReplicaSet"],
    },
    {"_id": "e2e-3", "text": "What is a good sourdough hydration?", "expect_refusal": True},
]
KEYS = {"correctness", "groundedness", "citation_precision", "model_cited", "refusal_rate",
        "ttft_p95_ms", "e2e_p95_ms", "questions"}  # fmt: skip


@pytest.fixture(scope="module")
def ingested(stack: Stack, k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return ingest(stack, link_corpus(k8s_docs, tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="module")
def gateway(stack: Stack, ingested: dict, tmp_path_factory: pytest.TempPathFactory):
    with gateway_process(stack, tmp_path_factory.mktemp("eval-gateway")) as url:
        yield url


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("answers") / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


def eval_answers(gateway: str, questions: Path, *args: str) -> tuple[dict, str]:
    cmd = [sys.executable, "-m", "docent_cli.main", "eval", "answers", "--questions",
           str(questions), "--url", gateway, "--max-tokens", "32", "--no-progress", "--json",
           *args]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


def test_with_and_without_retrieval(gateway: str, questions: Path, tmp_path: Path) -> None:
    summary, out = eval_answers(
        gateway, questions, "--against", "no-retrieval", "--price-per-hour", "0.10",
        "--report", str(tmp_path / "report"),
    )  # fmt: skip
    assert KEYS | {"win_rate"} <= set(summary)
    assert summary["questions"] == 3 and summary["errors"] == 0
    assert summary["groundedness"] is not None  # Docent's answers had passages
    closed = summary["against"]
    assert closed["groundedness"] is None and closed["model_cited"] is None  # no passages
    assert closed["errors"] == 0 and summary["compared_by"] == "reference"
    assert 0.0 <= summary["win_rate"] <= 1.0
    assert out.startswith("Docent scores ")
    result = json.loads((tmp_path / "report" / "result.json").read_text())
    rows = {(r["system"], r["id"]): r for r in result["rows"]}
    assert rows[("docent", "e2e-1")]["passages"] > 0
    assert rows[("no-retrieval", "e2e-1")]["passages"] == 0
    assert rows[("docent", "e2e-3")]["refused"]  # out of scope: declined with retrieval
    report = (tmp_path / "report" / "report.md").read_text()
    assert report.splitlines()[2].startswith("Docent scores ")
    assert "| e2e-2 | no-retrieval |" in report and "## Human scores" in report
    for plot in ("scores.png", "latency.png"):
        assert (tmp_path / "report" / plot).read_bytes()[:4] == b"\x89PNG"


def rate_an_answer(gateway: str) -> None:
    """Two raters score a stored answer to the first question at /review (API of the page)."""
    with httpx.Client(base_url=gateway, timeout=60) as client:
        client.post("/v1/chat", json={"message": QUESTIONS[0]["text"], "stream": False,
                                      "max_tokens": 16}).raise_for_status()  # fmt: skip
        client.post("/v1/review/sample", json={"count": 500}).raise_for_status()
        items = client.get("/v1/review/items").json()["items"]
        item = next(i for i in items if i["question"] == QUESTIONS[0]["text"])
        for rater, score in (("ana", 4), ("bo", 2)):
            scores = {"helpfulness": score, "accuracy": score, "safety": 5, "comment": ""}
            url = f"/v1/review/items/{item['id']}/ratings/{rater}"
            client.put(url, json=scores).raise_for_status()


def test_against_an_openai_compatible_server_with_a_judge(
    gateway: str, questions: Path, tmp_path: Path
) -> None:
    rate_an_answer(gateway)
    summary, out = eval_answers(
        gateway, questions, "--against", gateway, "--judge", gateway,
        "--price-per-hour", "0.10", "--against-price-per-mtok", "1.0",
        "--report", str(tmp_path / "report"),
    )  # fmt: skip
    assert summary["against"]["errors"] == 0 and summary["errors"] == 0
    assert summary["compared_by"] in ("judge", "reference")
    assert summary["cheaper_factor"] is not None and summary["cost_per_1k"] > 0
    assert "cost per 1,000 answers" in out.splitlines()[0]
    result = json.loads((tmp_path / "report" / "result.json").read_text())
    judged = [r["judge"] for r in result["rows"]]
    assert all(j is None or 1 <= j <= 5 for j in judged)
    human = result["human"]  # the ratings given at /review, matched by the question's text
    assert human["ratings"] >= 2 and human["raters"] >= 2
    assert "ratings of" in (tmp_path / "report" / "report.md").read_text()


@pytest.fixture(scope="module")
def adapter_gateway(stack: Stack, ingested: dict, tmp_path_factory: pytest.TempPathFactory):
    """A generation process serving committed adapters by name (the Kubernetes-docs SFT run's
    and the agent's), and a gateway on it."""
    from tests.e2e.conftest import generation_process

    home = tmp_path_factory.mktemp("adapter-eval")
    adapters = {name: REPO / "training-jobs" / "adapters" / name for name in ("k8s-sft", "agent")}
    with generation_process(stack, home, adapters) as address:
        env = {"DOCENT_GATEWAY_GENERATION_ADDRESS": address}
        (home / "gateway").mkdir()
        with gateway_process(stack, home / "gateway", env) as url:
            yield url


def test_adapter_against_the_base_on_one_stack(adapter_gateway: str, tmp_path: Path) -> None:
    """``--adapter A --against adapter:B``: base vs SFT vs DPO without a second stack."""
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps(QUESTIONS[0]) + "\n" + json.dumps(QUESTIONS[1]) + "\n")
    summary, _ = eval_answers(
        adapter_gateway, questions, "--adapter", "k8s-sft", "--against", "adapter:",
        "--report", str(tmp_path / "report"),
    )  # fmt: skip
    assert summary["errors"] == 0 and summary["against"]["errors"] == 0
    assert summary["compared_by"] == "reference" and summary["win_rate"] is not None
    result = json.loads((tmp_path / "report" / "result.json").read_text())
    assert set(result["systems"]) == {"docent", "adapter:"}
    answers = {(r["system"], r["id"]): r["answer"] for r in result["rows"]}
    # Greedy decoding: the same prompts give different text only if another model answered.
    assert any(
        answers[("docent", q["_id"])] != answers[("adapter:", q["_id"])] for q in QUESTIONS[:2]
    )
    with httpx.Client(base_url=adapter_gateway, timeout=300) as client:
        body = {"message": QUESTIONS[0]["text"], "stream": False, "adapter": "nope"}
        unknown = client.post("/v1/chat", json=body)
    assert unknown.status_code == 400, unknown.text
    assert "k8s-sft" in unknown.json()["error"]["message"]  # the served names are listed
