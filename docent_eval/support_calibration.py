"""Choose the support thresholds of :mod:`docentlib.support` on a labelled set, and report them.

The labelled set (``tests/data/support``) pairs a passage from the Kubernetes docs with answer
sentences labelled supported or not: copies, paraphrases and summaries of the passage, and
sentences that contradict a detail of it, claim something it does not say, or wander off. A
grid search picks, for the rule "lexical >= a or semantic >= b", the pair with the best F1 of
the supported class (ties: the stricter pair), and the lexical-only threshold the same way.
The held-out file, written after the thresholds were chosen, is only scored.

Usage::

    python -m docent_eval.support_calibration                 # tests/data/support, MiniLM
    python -m docent_eval.support_calibration --heldout tests/data/support/heldout.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docentlib.errors import InvalidInput
from docentlib.support import (
    SupportThresholds,
    lexical_support,
    numbers_match,
    semantic_support,
    split_sentences,
    strip_citations,
)

Embed = Callable[[Sequence[str]], np.ndarray]
LEXICAL_GRID = [round(0.05 * i, 2) for i in range(4, 21)]  # 0.20 .. 1.00
SEMANTIC_GRID = [round(0.01 * i, 2) for i in range(40, 100)]  # 0.40 .. 0.99


@dataclass(frozen=True)
class Labelled:
    """One answer sentence, the passage it is judged against, and whether that supports it."""

    id: str
    sentence: str
    passage: str
    supported: bool


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    accuracy: float

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"F1 {self.f1:.3f}  accuracy {self.accuracy:.3f}"
        )


def load_labelled(path: Path, passages_path: Path) -> list[Labelled]:
    """The labelled sentences of ``path`` with their passage's text from ``passages_path``."""
    passages = {row["_id"]: row["text"] for row in _jsonl(passages_path)}
    items = []
    for row in _jsonl(path):
        if row["passage"] not in passages:
            raise InvalidInput(f"{path}: {row['_id']} names unknown passage {row['passage']!r}")
        items.append(
            Labelled(row["_id"], row["sentence"], passages[row["passage"]], bool(row["supported"]))
        )
    return items


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def signals(items: Sequence[Labelled], embed: Embed) -> np.ndarray:
    """(lexical, semantic, numbers match) per item, as :func:`docentlib.support.judge` sees them."""
    claims = [strip_citations(i.sentence) for i in items]
    claim_vectors = embed(claims)
    passage_texts = sorted({i.passage for i in items})
    passage_vectors = {p: embed(split_sentences(p)) for p in passage_texts}
    return np.array(
        [
            (
                lexical_support(claim, item.passage),
                semantic_support(vector, passage_vectors[item.passage]),
                numbers_match(claim, item.passage),
            )
            for claim, vector, item in zip(claims, claim_vectors, items, strict=True)
        ]
    )


def score(predicted: np.ndarray, truth: np.ndarray) -> Scores:
    """Precision, recall and F1 of the supported class, and accuracy."""
    tp = int(np.sum(predicted & truth))
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, float(np.mean(predicted == truth)))


def predict(values: np.ndarray, thresholds: SupportThresholds, *, semantic: bool) -> np.ndarray:
    numbers = values[:, 2] > 0
    if semantic:
        return numbers & (
            (values[:, 0] >= thresholds.lexical) | (values[:, 1] >= thresholds.semantic)
        )
    return numbers & (values[:, 0] >= thresholds.lexical_only)


def choose(values: np.ndarray, truth: np.ndarray) -> SupportThresholds:
    """The thresholds with the best F1 (ties: the higher, i.e. stricter, thresholds)."""

    def f1(t: SupportThresholds, semantic: bool) -> float:
        return score(predict(values, t, semantic=semantic), truth).f1

    pairs = [SupportThresholds(a, b) for a in LEXICAL_GRID for b in SEMANTIC_GRID]
    both = max(pairs, key=lambda t: (f1(t, True), t.lexical + t.semantic))
    alone = max(
        (SupportThresholds(lexical_only=a) for a in LEXICAL_GRID),
        key=lambda t: (f1(t, False), t.lexical_only),
    )
    return SupportThresholds(both.lexical, both.semantic, alone.lexical_only)


def report(items: Sequence[Labelled], values: np.ndarray, t: SupportThresholds) -> list[str]:
    truth = np.array([i.supported for i in items])
    both, alone = predict(values, t, semantic=True), predict(values, t, semantic=False)
    wrong = [i.id for i, p, y in zip(items, both, truth, strict=True) if p != y]
    return [
        f"  lexical or semantic: {score(both, truth).line()}",
        f"  lexical only:        {score(alone, truth).line()}",
        f"  misjudged ({len(wrong)}): {', '.join(wrong) or '-'}",
    ]


def minilm() -> Embed:
    """The embedding service's model and settings, in process."""
    from services.embedding.core import Embedder
    from services.embedding.settings import EmbeddingSettings

    return Embedder.load(EmbeddingSettings()).embed


def main(argv: Sequence[str] | None = None) -> None:
    data = Path(__file__).resolve().parents[1] / "tests" / "data" / "support"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labelled", type=Path, default=data / "calibration.jsonl")
    parser.add_argument("--passages", type=Path, default=data / "passages.jsonl")
    parser.add_argument("--heldout", type=Path, help="Scored with the chosen thresholds only.")
    args = parser.parse_args(argv)
    embed = minilm()
    items = load_labelled(args.labelled, args.passages)
    values = signals(items, embed)
    chosen = choose(values, np.array([i.supported for i in items]))
    print(f"chosen on {len(items)} sentences ({args.labelled.name}): {chosen}")
    print("\n".join(report(items, values, chosen)))
    if args.heldout:
        held = load_labelled(args.heldout, args.passages)
        print(f"held out, {len(held)} sentences ({args.heldout.name}):")
        print("\n".join(report(held, signals(held, embed), chosen)))


if __name__ == "__main__":
    main()
