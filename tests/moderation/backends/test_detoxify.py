"""The Detoxify loading path, on a tiny checkpoint built here in Detoxify's layout.

The real checkpoints cannot be downloaded in this environment, so this proves the loader (the
checkpoint layout, label names, config and tokenizer from a local folder, the weights really
loaded) with a random 2-layer BERT; it says nothing about the real model's accuracy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from docentlib.errors import Unavailable
from services.moderation.core import build_backend
from services.moderation.settings import ModerationSettings

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
WORDS = ["you", "are", "an", "idiot", "hello", "pod", "what", "is", "a", "the"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("detoxify")
    config_dir = root / "bert-tiny"
    config_dir.mkdir()
    vocab = config_dir / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizer(str(vocab))
    tokenizer.save_pretrained(str(config_dir))
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(CLASSES),
    )
    config.save_pretrained(str(config_dir))
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).eval()
    ckpt = root / "toxic_tiny.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        ckpt,
    )
    return ckpt, config_dir, (model, tokenizer)


def test_loads_the_checkpoint_and_reports_sub_kinds(checkpoint) -> None:
    ckpt, config_dir, (model, tokenizer) = checkpoint
    settings = ModerationSettings(
        toxicity_backend="detoxify", detoxify_checkpoint=ckpt, detoxify_config_dir=config_dir
    )
    backend = build_backend("detoxify", settings)
    scores = backend.score(["you are an idiot", "what is a pod"])
    assert list(scores[0]) == [
        "toxicity",
        "toxicity.severe_toxicity",
        "toxicity.obscene",
        "toxicity.threat",
        "toxicity.insult",
        "toxicity.identity_attack",
    ]
    with torch.inference_mode():
        batch = tokenizer(["you are an idiot"], return_tensors="pt")
        expected = torch.sigmoid(model(**batch).logits)[0].tolist()
    assert [scores[0][k] for k in scores[0]] == pytest.approx(expected, abs=1e-5)
    assert scores[0] != scores[1]


def test_missing_or_wrong_checkpoint_is_a_clear_error(checkpoint, tmp_path: Path) -> None:
    _, config_dir, _ = checkpoint
    with pytest.raises(Unavailable, match="DETOXIFY_CHECKPOINT"):
        build_backend("detoxify", ModerationSettings())
    missing = ModerationSettings(
        detoxify_checkpoint=tmp_path / "nope.ckpt", detoxify_config_dir=config_dir
    )
    with pytest.raises(Unavailable, match="not found"):
        build_backend("detoxify", missing)
    wrong = tmp_path / "wrong.ckpt"
    torch.save({"weights": {}}, wrong)
    with pytest.raises(Unavailable, match="not a Detoxify checkpoint"):
        build_backend(
            "detoxify",
            ModerationSettings(detoxify_checkpoint=wrong, detoxify_config_dir=config_dir),
        )
