"""``docent eval retrieval`` on small corpora the test writes: both corpus kinds, all the
metrics keys on the last line with --json, CRLF qrels with a header, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app

runner = CliRunner()

DOCS = {
    "deploy.md": "# Deployments\n\nRoll back a Deployment with kubectl rollout undo to return "
    "to the previous revision. The rollout history lists every revision.\n\n## Scaling\n\n"
    "Scale a Deployment with kubectl scale --replicas=5.\n",
    "service.md": "# Service\n\nA Service exposes a set of Pods behind one stable virtual IP "
    "address and DNS name; kube-proxy routes its traffic.\n",
    "pod.md": "# Pod\n\nA Pod is the smallest deployable unit: one or more containers sharing "
    "network and storage.\n\n## Lifecycle\n\nPods move through Pending, Running, Succeeded.\n",
    "configmap.md": "# ConfigMap\n\nA ConfigMap stores configuration as key-value pairs that "
    "Pods consume as environment variables or mounted files.\n",
    "job.md": "# Job\n\nA Job runs Pods until a number of them complete successfully; a CronJob "
    "runs Jobs on a schedule.\n",
}
QUESTIONS = {
    "q1": ("How do I undo a bad rollout?", "deploy.md"),
    "q2": ("stable IP address for my pods", "service.md"),
    "q3": ("run a task every night on a schedule", "job.md"),
}


def write_corpus(root: Path) -> Path:
    """A folder corpus, the same documents as a BEIR corpus, queries and both qrels files."""
    (root / "docs").mkdir(parents=True)
    beir = []
    for name, text in DOCS.items():
        (root / "docs" / name).write_text(text)
        title, _, body = text.partition("\n\n")
        beir.append({"_id": name.removesuffix(".md"), "title": title[2:], "text": body})
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in beir) + "\n")
    queries = [{"_id": q, "text": t} for q, (t, _) in QUESTIONS.items()]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (root / "folder-queries.jsonl").write_text((root / "queries.jsonl").read_text())
    crlf = "query-id\tcorpus-id\tscore\r\n" + "".join(
        f"{q}\t{doc.removesuffix('.md')}\t1\r\n" for q, (_, doc) in QUESTIONS.items()
    )
    (root / "qrels.tsv").write_bytes(crlf.encode())
    folder = "query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{doc}\t1\n" for q, (_, doc) in QUESTIONS.items()
    )
    (root / "folder-qrels.tsv").write_text(folder)
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("eval"))


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eval-home")


@pytest.fixture(autouse=True)
def _reuse_index_cache(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One DOCENT_HOME for the module, so the cached index is built once per corpus (which
    is itself what the cache promises: the second mode does not re-embed)."""
    monkeypatch.setenv("DOCENT_HOME", str(shared_home))


KEYS = {
    "ndcg@10",
    "recall@100",
    "mrr@10",
    "hit@1",
    "hit@5",
    "hit@10",
    "p50_ms",
    "p95_ms",
    "mode",
    "queries",
}


@pytest.mark.parametrize("mode", ["sparse", "dense", "hybrid"])
def test_folder_corpus_all_keys_on_the_last_line(corpus: Path, mode: str) -> None:
    result = runner.invoke(
        app,
        [
            "eval",
            "retrieval",
            "--corpus",
            str(corpus / "docs"),
            "--queries",
            str(corpus / "folder-queries.jsonl"),
            "--qrels",
            str(corpus / "folder-qrels.tsv"),
            "--mode",
            mode,
            "--json",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[-1])
    assert set(row) == KEYS and row["mode"] == mode and row["queries"] == 3
    assert row["hit@5"] == 1.0 and row["recall@100"] == 1.0
    assert 0 < row["ndcg@10"] <= 1 and row["p95_ms"] >= row["p50_ms"] > 0
    built = "indexed 5 documents" in result.output
    assert built == (mode == "sparse")  # later modes reuse the cached index


def test_beir_corpus_with_crlf_qrels(corpus: Path) -> None:
    result = runner.invoke(
        app,
        [
            "eval",
            "retrieval",
            "--corpus",
            str(corpus / "corpus.jsonl"),
            "--queries",
            str(corpus / "queries.jsonl"),
            "--qrels",
            str(corpus / "qrels.tsv"),
            "--mode",
            "hybrid",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ndcg@10" in result.output and "3 queries" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--mode": "fuzzy"}, "--mode must be one of"),
        ({"--qrels": "/nonexistent.tsv"}, "does not exist"),
        ({"--mode": "hybrid+rerank", "--reranker": "/nonexistent"}, "no cross-encoder"),
    ],
)
def test_bad_input_is_a_message_and_exit_1(corpus: Path, change: dict, message: str) -> None:
    args = {
        "--corpus": str(corpus / "docs"),
        "--queries": str(corpus / "folder-queries.jsonl"),
        "--qrels": str(corpus / "folder-qrels.tsv"),
        "--mode": "hybrid",
        **change,
    }
    result = runner.invoke(app, ["eval", "retrieval", *[x for kv in args.items() for x in kv]])
    assert result.exit_code == 1
    assert message in result.output
