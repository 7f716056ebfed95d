"""The documentation prose in the safety classifier's benign class (doc_prose.py)."""

from __future__ import annotations

from collections import Counter

from bench.corpora.build import PYDOC_MODULES
from docent_training.safety import doc_prose
from docent_training.safety.corpus import build_corpus


def test_committed_prose_is_what_the_generator_writes() -> None:
    """Regenerating from this Python's standard library gives the committed file."""
    assert doc_prose.load() == doc_prose.build()


def test_prose_is_large_varied_and_from_no_evaluated_module() -> None:
    items = doc_prose.load()
    groups = Counter(i["group"] for i in items)
    assert len(items) >= 1000 and len(groups) >= 50
    assert max(groups.values()) <= doc_prose.MAX_PER_MODULE
    assert set(groups) <= set(doc_prose.MODULES)
    assert not set(doc_prose.MODULES) & set(PYDOC_MODULES), "pydoc retrieval set's modules"
    wrapped = sum(1 for i in items if i["text"].startswith(("<tr>", "|", "- **", "--", "> ")))
    assert 0.3 < wrapped / len(items) < 0.9  # most in documentation markup, some plain


def test_corpus_trains_on_it_as_benign_with_whole_modules_in_dev() -> None:
    prose = [i for i in build_corpus() if i.family == "doc_prose"]
    assert len(prose) >= 1000 and {i.label for i in prose} == {"benign"}
    dev_modules = {i.group for i in prose if i.split == "dev"}
    assert dev_modules and dev_modules != {i.group for i in prose}
