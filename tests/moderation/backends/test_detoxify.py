"""The Detoxify backend through the real ``detoxify`` package, on tiny checkpoints built here.

The real checkpoints cannot be downloaded in this environment, so these prove the loading path
(Detoxify's checkpoint layout, label names, config and tokenizer from local files, the weights
really loaded, the offline Hugging Face cache for a Hub-named base model) with a random 2-layer
BERT; they say nothing about the real model's accuracy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from docentlib.errors import Unavailable
from services.moderation.backends.detoxify import DetoxifyBackend, inspect_checkpoint
from services.moderation.core import build_backend
from services.moderation.settings import ModerationSettings
from tests.conftest import REPO

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
CATEGORIES = [
    "toxicity",
    "toxicity.severe_toxicity",
    "toxicity.obscene",
    "toxicity.threat",
    "toxicity.insult",
    "toxicity.identity_attack",
]
WORDS = ["you", "are", "an", "idiot", "hello", "pod", "what", "is", "a", "the"]
TEXTS = ["you are an idiot", "what is a pod"]


class TinyBert:
    """A random 2-layer BERT saved as a Hugging Face folder (config, vocab; no tokenizer_config
    limit, like a bare folder), and its sigmoid scores for comparison."""

    def __init__(self, root: Path) -> None:
        self.config_dir = root / "bert-tiny"
        self.config_dir.mkdir(parents=True)
        vocab = self.config_dir / "vocab.txt"
        vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
        self.tokenizer = BertTokenizer(str(vocab))
        self.tokenizer.save_pretrained(str(self.config_dir))
        config = BertConfig(
            vocab_size=len(WORDS) + 5,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            num_labels=len(CLASSES),
        )
        config.save_pretrained(str(self.config_dir))
        torch.manual_seed(0)
        self.model = BertForSequenceClassification(config).eval()

    def checkpoint(self, path: Path, base_model: str, **changes: Any) -> Path:
        """Write a checkpoint in Detoxify's layout; ``changes`` replace top-level entries."""
        content: dict[str, Any] = {
            "config": {
                "arch": {
                    "args": {
                        "model_type": base_model,
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": self.model.state_dict(),
        }
        content.update(changes)
        torch.save(content, path)
        return path

    def expected(self, texts: list[str]) -> list[list[float]]:
        with torch.inference_mode():
            batch = self.tokenizer(texts, return_tensors="pt", padding=True)
            return torch.sigmoid(self.model(**batch).logits).tolist()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyBert:
    return TinyBert(tmp_path_factory.mktemp("detoxify"))


def _settings(checkpoint: Path | None, config_dir: Path | None) -> ModerationSettings:
    return ModerationSettings(
        toxicity_backend="detoxify", detoxify_checkpoint=checkpoint, detoxify_config_dir=config_dir
    )


def test_loads_and_scores_through_the_package(tiny: TinyBert, tmp_path: Path) -> None:
    """The base model named by a local folder: the package reads everything from disk."""
    ckpt = tiny.checkpoint(tmp_path / "toxic_tiny.ckpt", str(tiny.config_dir))
    backend = build_backend("detoxify", _settings(ckpt, tiny.config_dir))
    assert isinstance(backend, DetoxifyBackend)
    scores = backend.score(TEXTS)
    assert [list(s) for s in scores] == [CATEGORIES, CATEGORIES]
    for got, want in zip(scores, tiny.expected(TEXTS), strict=True):
        assert list(got.values()) == pytest.approx(want, abs=1e-5)
    assert scores[0] != scores[1]
    (one,) = backend.score(TEXTS[:1])  # detoxify squeezes a batch of one into floats
    assert list(one.values()) == pytest.approx(tiny.expected(TEXTS[:1])[0], abs=1e-5)
    assert backend.score([]) == []


def test_a_long_text_is_cut_to_the_model_length(tiny: TinyBert, tmp_path: Path) -> None:
    """The tokenizer folder sets no limit; 300 words would overflow 64 positions uncut."""
    ckpt = tiny.checkpoint(tmp_path / "toxic_tiny.ckpt", str(tiny.config_dir))
    backend = build_backend("detoxify", _settings(ckpt, tiny.config_dir))
    (scores,) = backend.score(["you are an idiot " * 75])
    assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_missing_settings_or_files_are_named(tiny: TinyBert, tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="DETOXIFY_CHECKPOINT"):
        build_backend("detoxify", ModerationSettings())
    with pytest.raises(Unavailable, match="checkpoint not found"):
        build_backend("detoxify", _settings(tmp_path / "nope.ckpt", tiny.config_dir))
    ckpt = tiny.checkpoint(tmp_path / "toxic_tiny.ckpt", str(tiny.config_dir))
    with pytest.raises(Unavailable, match="config folder not found"):
        build_backend("detoxify", _settings(ckpt, tmp_path / "absent"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"config": {"arch": {}}}, "needs arch.args.model_type.*KeyError\\('args'\\)"),
        ({"state_dict": {}}, "does not fit BertForSequenceClassification: missing"),
        ({"config": None}, "needs arch.args.model_type.*TypeError"),
    ],
)
def test_a_wrong_checkpoint_is_a_clear_error(
    tiny: TinyBert, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    ckpt = tiny.checkpoint(tmp_path / "bad.ckpt", str(tiny.config_dir), **changes)
    with pytest.raises(Unavailable, match=message):
        build_backend("detoxify", _settings(ckpt, tiny.config_dir))


def test_weights_under_another_prefix_are_refused(tiny: TinyBert, tmp_path: Path) -> None:
    """A raw Lightning checkpoint keeps "model." in front of every name; transformers would
    leave the whole model random and only log it."""
    prefixed = {f"model.{k}": v for k, v in tiny.model.state_dict().items()}
    ckpt = tiny.checkpoint(tmp_path / "raw.ckpt", str(tiny.config_dir), state_dict=prefixed)
    with pytest.raises(Unavailable, match="unexpected \\['model"):
        build_backend("detoxify", _settings(ckpt, tiny.config_dir))


def test_files_that_are_not_detoxify_checkpoints(tiny: TinyBert, tmp_path: Path) -> None:
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    with pytest.raises(Unavailable, match="cannot be read as a torch checkpoint"):
        build_backend("detoxify", _settings(text, tiny.config_dir))
    weights = tmp_path / "weights.ckpt"
    torch.save({"weights": {}}, weights)
    with pytest.raises(Unavailable, match="not a Detoxify checkpoint"):
        build_backend("detoxify", _settings(weights, tiny.config_dir))
    renamed = tiny.checkpoint(tmp_path / "renamed.ckpt", str(tiny.config_dir))
    content = torch.load(renamed, weights_only=False)
    content["config"]["arch"]["args"]["model_name"] = "NoSuchModel"
    torch.save(content, renamed)
    with pytest.raises(Unavailable, match="unknown model class 'NoSuchModel'"):
        build_backend("detoxify", _settings(renamed, tiny.config_dir))


def test_inspection_reads_the_declared_layout(tiny: TinyBert, tmp_path: Path) -> None:
    info = inspect_checkpoint(tiny.checkpoint(tmp_path / "c.ckpt", "bert-base-uncased"))
    assert info.base_model == "bert-base-uncased"
    assert info.classes == tuple(CLASSES)
    assert info.weights == frozenset(tiny.model.state_dict())


def _cache_entry(home: Path, repo_id: str, files: Path) -> Path:
    """``repo_id`` in a Hugging Face cache at ``home`` (the layout ``hf download`` writes:
    refs/main names a snapshot folder holding the files); returns the snapshot folder."""
    repo = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    revision = "0" * 40
    snapshot = repo / "snapshots" / revision
    shutil.copytree(files, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    return snapshot


_LOAD_OFFLINE = """
import json, sys
from docentlib.errors import Unavailable
from services.moderation.core import build_backend
from services.moderation.settings import ModerationSettings

results = {}
for name, checkpoint in (("cached", sys.argv[1]), ("absent", sys.argv[2])):
    settings = ModerationSettings(detoxify_checkpoint=checkpoint, detoxify_config_dir=sys.argv[3])
    try:
        results[name] = build_backend("detoxify", settings).score([sys.argv[4]])[0]
    except Unavailable as exc:
        results[name] = str(exc)
print(json.dumps(results))
"""


def test_hub_named_base_model_loads_offline_from_the_cache(tiny: TinyBert, tmp_path: Path) -> None:
    """Real checkpoints name their base model by Hub name (``bert-base-uncased``), which
    detoxify 0.5.4 reads even with a local folder: offline it must be in the HF cache
    (docs/safety.md). Run in a fresh process: the cache location and offline mode are read
    when huggingface_hub is imported."""
    home = tmp_path / "hf-home"
    snapshot = _cache_entry(home, "docent-test/bert-tiny", tiny.config_dir)
    cached = tiny.checkpoint(tmp_path / "cached.ckpt", "docent-test/bert-tiny")
    absent = tiny.checkpoint(tmp_path / "absent.ckpt", "docent-test/not-cached")
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_OFFLINE, str(cached), str(absent), str(snapshot), TEXTS[0]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(results["cached"]) == CATEGORIES
    assert list(results["cached"].values()) == pytest.approx(tiny.expected(TEXTS[:1])[0], abs=1e-5)
    assert "'docent-test/not-cached' is not in the local Hugging Face cache" in results["absent"]
