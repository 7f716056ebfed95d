"""Preference pairs from training items: the served answer against a worse one.

Chosen is the item's answer: grounded in the passage it cites, cited, concise, right (or
the gateway's "don't know" / out-of-scope refusal). Rejected is one of:

* ``ungrounded``: fluent sentences from a section the prompt does not quote, cited as if the
  answering passage said them (a hallucination with a confident citation);
* ``uncited``: the right sentences without their ``[n]`` markers;
* ``repetitive``: the first sentence said again and again (the loop small models fall into);
* ``complies``: an answer to what should be declined (an out-of-scope question answered, a
  question the sources do not cover answered from an unrelated passage).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from docent_training.domain_data.answers import cite, usable
from docent_training.domain_data.items import Item
from docentlib.answer_format import strip_citations
from docentlib.support import split_sentences

GROUNDED_REJECTIONS = ("ungrounded", "uncited", "repetitive")


def rejected_answer(item: Item, foreign: Sequence[str], rng: random.Random) -> tuple[str, str]:
    """(kind of flaw, the rejected answer) for ``item``; ``foreign``: sentences from elsewhere."""
    if item.kind in ("grounded", "multi_turn"):
        kind = rng.choice(GROUNDED_REJECTIONS)
        sentences = split_sentences(item.answer)
        if kind == "uncited":
            return kind, strip_citations(item.answer).strip()
        if kind == "repetitive":
            return kind, " ".join([sentences[0]] * 4)
        quoted = " ".join(" ".join(text.split()) for text in item.shown)
        absent = [s for s in rng.sample(list(foreign), k=min(50, len(foreign))) if s not in quoted]
        made_up = absent[:2] or [
            f"This is handled automatically, so {item.subject} needs no setup."
        ]
        return kind, " ".join(cite(s, item.gold) for s in made_up)
    first = next((u for text in item.shown for u in split_sentences(text) if usable(u)), None)
    borrowed = cite(first, 1) if first else cite(rng.choice(list(foreign)), 1)
    if item.kind == "out_of_scope":
        return "complies", f"Sure, here is what I can tell you. {borrowed}"
    return "complies", borrowed


def preference_record(item: Item, number: int, foreign: Sequence[str], rng: random.Random) -> dict:
    flaw, rejected = rejected_answer(item, foreign, rng)
    return {
        "id": f"pref-{number:06d}",
        "kind": item.kind,
        "rejected_kind": flaw,
        "source": item.source,
        "doc": item.doc,
        "split": item.split,
        "prompt": item.prompt,
        "chosen": item.answer,
        "rejected": rejected,
    }
