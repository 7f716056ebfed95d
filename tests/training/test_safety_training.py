"""``docent train safety``: the corpus is deterministic and clean, training runs at toy scale,
and the shipped model was trained on the corpus the code generates today."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.safety.corpus import LABELS, build_corpus, corpus_sha256
from docent_training.safety.train import ALPHA_GRID, HIDDEN_GRID
from docentlib.safety_classifier import SafetyClassifier
from services.moderation.semantic import CLASSIFIER_FILE


def test_corpus_is_deterministic_large_and_varied() -> None:
    items = build_corpus()
    assert corpus_sha256(items) == corpus_sha256(build_corpus())
    counts = Counter(i.label for i in items)
    assert set(counts) == set(LABELS) and min(counts.values()) >= 2000
    assert len({i.text.lower() for i in items}) == len(items)  # de-duplicated
    assert len({(i.label, i.family) for i in items}) >= 25
    splits = Counter(i.split for i in items)
    assert 0.1 < splits["dev"] / len(items) < 0.3
    for group in {i.group for i in items if i.split == "dev"}:  # whole groups held out
        assert all(i.split == "dev" for i in items if i.group == group)


def test_shipped_model_matches_the_corpus() -> None:
    shipped = SafetyClassifier.load(CLASSIFIER_FILE)
    assert shipped.info["corpus_sha256"] == corpus_sha256(build_corpus()), (
        "the corpus changed: retrain with `docent train safety`"
    )
    assert shipped.labels == list(LABELS) and set(shipped.thresholds) == {"harmful", "injection"}


def test_train_safety_at_toy_scale(tmp_path: Path) -> None:
    out = tmp_path / "clf.json"
    result = CliRunner().invoke(
        app, ["train", "safety", "--output", str(out), "--max-items", "400"]
    )
    assert result.exit_code == 0, result.output
    assert "dev recall" in result.output
    clf = SafetyClassifier.load(out)
    assert clf.info["train"] + clf.info["dev"] == 400
    assert 0.1 <= clf.thresholds["harmful"] <= 0.95
    figures = clf.info["dev_figures"]
    assert clf.hidden is not None and clf.hidden[0].shape == (figures["hidden"], 384)
    assert (figures["hidden"], figures["alpha"]) in {
        (h, a) for h in HIDDEN_GRID for a in ALPHA_GRID
    }
