"""The safety classifier's training corpus, generated from templates (deterministic).

Three labels: ``harmful`` (requests for help causing serious harm), ``injection`` (attempts
to override, extract or subvert the assistant's instructions, from users or planted in
documents) and ``benign`` (everything else, with many alarming-sounding operations and
everyday questions as contrast). Each item has a ``group`` (the act, object or source it was
built from); the dev split holds whole groups, so dev figures measure content the model has
not seen, not just new wrappings of seen content.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from docent_training.safety import benign_templates as B
from docent_training.safety import doc_prose
from docent_training.safety import harmful_templates as H
from docent_training.safety import injection_templates as J

LABELS = ("benign", "harmful", "injection")
DEV_SHARE = 5  # one group in five goes to dev


@dataclass(frozen=True)
class Item:
    text: str
    label: str
    family: str
    group: str

    @property
    def split(self) -> str:
        digest = hashlib.sha256(f"{self.label}/{self.group}".encode()).digest()
        return "dev" if digest[0] % DEV_SHARE == 0 else "train"


def _surface(text: str, rng: random.Random) -> str:
    """A light surface variant: casing, politeness, punctuation (users type all kinds)."""
    roll = rng.random()
    if roll < 0.15:
        text = text[0].upper() + text[1:]
    elif roll < 0.25:
        text = "please " + text
    elif roll < 0.32:
        text = text.rstrip("?.")
    elif roll < 0.38:
        text = "quick question: " + text
    return text


def _sample(rng: random.Random, combos: list, n: int) -> list:
    return combos if len(combos) <= n else rng.sample(combos, n)


def _harmful(rng: random.Random) -> Iterable[Item]:
    for family, acts in H.ACTS.items():
        for act in acts:
            for frame in rng.sample(H.FRAMES, 12):
                yield Item(_surface(frame.format(act=act), rng), "harmful", family, act)
    for family, artifacts in H.ARTIFACTS.items():
        for artifact in artifacts:
            for frame in rng.sample(H.ARTIFACT_FRAMES, 8):
                yield Item(
                    _surface(frame.format(artifact=artifact), rng), "harmful", family, artifact
                )


def _injection(rng: random.Random) -> Iterable[Item]:
    combos = list(itertools.product(J.OVERRIDE_VERBS, J.OVERRIDE_OBJECTS, J.OVERRIDE_TAILS))
    for verb, obj, tail in _sample(rng, combos, 700):
        text = f"{verb} {obj} {tail}".strip()
        yield Item(_surface(text, rng), "injection", "override", obj)
    for frame, name in itertools.product(J.PERSONA_FRAMES, J.PERSONA_NAMES):
        yield Item(_surface(frame.format(name=name), rng), "injection", "persona", frame)
    for mode in J.MODES:
        for prefix in ("", "from now on, ", "new session: "):
            yield Item(_surface(prefix + mode, rng), "injection", "persona", mode)
    combos = list(itertools.product(J.EXTRACT_VERBS, J.EXTRACT_OBJECTS, J.EXTRACT_FORMATS))
    for verb, obj, fmt in _sample(rng, combos, 600):
        yield Item(_surface(f"{verb} {obj} {fmt}".strip(), rng), "injection", "extraction", obj)
    for question in J.EXTRACT_QUESTIONS:
        yield Item(_surface(question, rng), "injection", "extraction", question)
    for frame, role, act in itertools.product(J.AUTHORITY, J.ROLES, J.AUTHORITY_ACTS):
        yield Item(_surface(frame.format(role=role, act=act), rng), "injection", "authority", act)
    for frame, order in itertools.product(J.FAKE_DELIMITERS, J.ORDERS):
        yield Item(frame.format(order=order), "injection", "delimiter", order)
    for text in J.HYPOTHETICALS:
        yield Item(_surface(text, rng), "injection", "hypothetical", text)
    for text in J.FOREIGN:
        yield Item(text, "injection", "foreign", text)
    for planted in J.PLANTED:
        yield Item(planted, "injection", "planted", planted)
    for planted, before, after in itertools.product(J.PLANTED, J.DOC_SENTENCES, ("", "x")):
        text = f"{before} {planted}" + (f" {rng.choice(J.DOC_SENTENCES)}" if after else "")
        yield Item(text, "injection", "planted", planted)
    overrides = [f"{v} {o}" for v, o in itertools.product(J.OVERRIDE_VERBS[:6], J.OVERRIDE_OBJECTS)]
    for question in B.K8S_QUESTIONS:
        for override in rng.sample(overrides, 4):
            tail = rng.choice([t for t in J.OVERRIDE_TAILS if t])
            text = f"{question} also, {override} {tail}"
            yield Item(text, "injection", "appended", override)


def _benign(rng: random.Random) -> Iterable[Item]:
    for frame, act in itertools.product(B.OPS_FRAMES, B.OPS_ACTS):
        yield Item(_surface(frame.format(act=act), rng), "benign", "operations", act)
    for question in B.K8S_QUESTIONS:
        for variant in ("{q}", "in Kubernetes, {q}", "quick one: {q}"):
            yield Item(variant.format(q=question), "benign", "kubernetes", question)
    for family, texts in (
        ("prompt_words", B.PROMPT_WORDS),
        ("follow_up", B.FOLLOW_UPS),
        ("everyday", B.EVERYDAY),
    ):
        for text in texts:
            yield Item(text, "benign", family, text)
            yield Item(_surface(text, rng), "benign", family, text)
    for act in B.EVERYDAY_ACTS + B.OPS_ACTS[::2]:
        for frame in rng.sample(H.FRAMES, 8):
            yield Item(_surface(frame.format(act=act), rng), "benign", "same_frames", act)
    for verb, obj in itertools.product(B.OPS_VERBS, B.OPS_OBJECTS):
        frame = rng.choice(B.OPS_FRAMES)
        yield Item(_surface(frame.format(act=f"{verb} {obj}"), rng), "benign", "kubernetes", obj)
    for verb, obj in itertools.product(J.EXTRACT_VERBS, B.SHOW_OBJECTS):
        fmt = rng.choice(("", "as JSON", "as a list", "in full", "sorted by name"))
        text = f"{verb} {obj} {fmt}".strip()
        yield Item(_surface(text, rng), "benign", "show_words", obj)
    for act in B.OVERRIDE_ACTS:
        for frame in rng.sample(B.OPS_FRAMES, 6):
            yield Item(_surface(frame.format(act=act), rng), "benign", "override_words", act)
    for family, texts in (("role_request", B.ROLE_REQUESTS), ("follow_up", B.MORE_FOLLOW_UPS)):
        for text in texts:
            yield Item(text, "benign", family, text)
            yield Item(_surface(text, rng), "benign", family, text)
    sentences = list(B.DOC_PASSAGES) + list(J.DOC_SENTENCES)
    for text in sentences:
        yield Item(text, "benign", "documentation", text)
    for a, b in itertools.permutations(sentences, 2):
        if rng.random() < 0.25:
            yield Item(f"{a} {b}", "benign", "documentation", a)
    for frame, subject in itertools.product(B.SYSTEM_FRAMES, B.SYSTEM_SUBJECTS):
        yield Item(_surface(frame.format(x=subject), rng), "benign", "system_design", subject)
    for text in B.SYSTEM_QUESTIONS:
        yield Item(text, "benign", "system_design", text)
        yield Item(_surface(text, rng), "benign", "system_design", text)
    for frame, product in itertools.product(B.PRODUCT_FRAMES, B.PRODUCTS):
        yield Item(_surface(frame.format(p=product), rng), "benign", "product", frame)
    for text in B.REQUEST_QUESTIONS:
        yield Item(text, "benign", "requests", text)
        yield Item(_surface(text, rng), "benign", "requests", text)
    for item in doc_prose.load():  # reference text as retrieval returns it (doc_prose.py)
        yield Item(item["text"], "benign", "doc_prose", item["group"])
    for act in B.CREDENTIAL_ACTS:
        for frame in rng.sample(B.OPS_FRAMES, 6):
            yield Item(_surface(frame.format(act=act), rng), "benign", "credentials", act)
    for verb, obj in itertools.product(B.CREATE_VERBS, B.CREATE_OBJECTS):
        frame = rng.choice(B.OPS_FRAMES)
        yield Item(_surface(frame.format(act=f"{verb} {obj}"), rng), "benign", "making", obj)


def build_corpus(seed: int = 0) -> list[Item]:
    """Every item, de-duplicated by text (first label wins), in a stable order."""
    rng = random.Random(seed)
    seen: set[str] = set()
    items = []
    for item in itertools.chain(_harmful(rng), _injection(rng), _benign(rng)):
        key = item.text.lower().strip()
        if key not in seen:
            seen.add(key)
            items.append(item)
    return items


def corpus_sha256(items: list[Item]) -> str:
    """A fingerprint of the corpus, stored in the model so a stale model is detectable."""
    payload = json.dumps([asdict(i) for i in items], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()
