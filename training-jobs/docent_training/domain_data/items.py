"""Training items: a prompt exactly as the gateway builds it, and the answer it should get.

Four kinds, in shares a caller chooses (:data:`DEFAULT_SHARES`):

* ``grounded``: a derived question; the prompt quotes the answering section among the
  sections BM25 finds for the question; the answer is cited sentences of that section.
* ``multi_turn``: a previous exchange about the same page first (history, citations stripped
  as the gateway strips them), then a follow-up, often short ("What about X?").
* ``unanswerable``: a derived question whose prompt quotes only sections of *other* pages
  that lack its subject; the answer says the sources don't cover it.
* ``out_of_scope``: an everyday question (:mod:`offtopic`); the answer is the gateway's
  out-of-scope refusal.

Every prompt quotes only sections from its own side of the train/eval split.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from tqdm import tqdm

from docent_training.domain_data.answers import (
    dont_know,
    grounded_answer,
    pick_units,
    prose_units,
)
from docent_training.domain_data.fitting import Counter, drop_order
from docent_training.domain_data.miner import SectionSearch
from docent_training.domain_data.offtopic import offtopic_questions
from docent_training.domain_data.questions import Derived, derive
from docent_training.domain_data.sections import Section
from docentlib.answer_format import (
    DEFAULT_DOMAIN,
    Passage,
    build_messages,
    out_of_scope_refusal,
    relevant_sentences,
    system_prompt,
)
from docentlib.support import content_words

DEFAULT_SHARES = {"grounded": 0.70, "multi_turn": 0.10, "unanswerable": 0.12, "out_of_scope": 0.08}
GOLD_POSITION_WEIGHTS = (0.40, 0.25, 0.15, 0.10, 0.10)  # retrieval mostly ranks it high
SEARCH_DEPTH = 40


@dataclass
class Options:
    """How items are made; the defaults are the gateway's own (5 passages, 6 sentences)."""

    count: int = 10_000
    domain: str = DEFAULT_DOMAIN
    passages: int = 5
    context_sentences: int = 6
    seed: int = 0
    max_prompt_tokens: int = 0  # 0: not fitted (no tokenizer given)
    shares: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))


@dataclass
class Item:
    kind: str
    source: str  # how the question was made: heading, intro, definition, procedure, offtopic
    doc: str  # the page the question came from ("" for out-of-scope)
    split: str  # train | eval
    question: str
    subject: str
    prompt: list[dict[str, str]]  # system, history, user with sources
    answer: str
    gold: int = 0  # the passage number that answers (0: none does)
    shown: list[str] = field(default_factory=list)  # each passage's text as the prompt shows it


def normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def _side(key: str, eval_keys: set[str]) -> str:
    return "eval" if key in eval_keys else "train"


class ItemBuilder:
    def __init__(
        self,
        sections: list[Section],
        eval_keys: set[str],
        options: Options,
        count_tokens: Counter | None = None,
    ) -> None:
        self.sections, self.eval_keys, self.opt = sections, eval_keys, options
        self.count_tokens = count_tokens
        self.rng = random.Random(options.seed)
        self.by_side: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(sections):
            self.by_side[_side(s.key, eval_keys)].append(i)
        self.search = SectionSearch(sections)

    def close(self) -> None:
        self.search.close()

    # --- candidates -------------------------------------------------------------------
    def candidates(self) -> list[tuple[int, Derived]]:
        """Every derived question once (by normalised text), shuffled."""
        seen: set[str] = set()
        found: list[tuple[int, Derived]] = []
        previous_key = None
        for i, section in enumerate(self.sections):
            first = section.key != previous_key
            previous_key = section.key
            for derived in derive(section, first, self.rng):
                key = normal(derived.question)
                if key and key not in seen:
                    seen.add(key)
                    found.append((i, derived))
        self.rng.shuffle(found)
        return found

    # --- prompts ----------------------------------------------------------------------
    def _shown(self, index: int, question: str) -> str:
        return relevant_sentences(self.sections[index].text, question, self.opt.context_sentences)

    def _messages(
        self, question: str, indices: list[int], shown: list[str], history: list[tuple[str, str]]
    ) -> list[dict[str, str]]:
        passages = [
            Passage(self.sections[i].title, text, self.sections[i].heading_path)
            for i, text in zip(indices, shown, strict=True)
        ]
        system = system_prompt(self.opt.domain)
        return [
            {"role": r, "content": c}
            for r, c in build_messages(question, passages, history, system)
        ]

    def _fit(
        self,
        question: str,
        indices: list[int],
        shown: list[str],
        history: list[tuple[str, str]],
        keep: int | None = None,
    ) -> tuple[list[int], list[str], list[dict[str, str]]] | None:
        """The prompt, lowest-ranked passages dropped (never ``keep``) until it fits; None if
        even the shortest does not."""
        indices, shown = list(indices), list(shown)
        messages = self._messages(question, indices, shown, history)
        budget = self.opt.max_prompt_tokens
        if not self.count_tokens or not budget:
            return indices, shown, messages
        while self.count_tokens(messages) > budget:
            droppable = drop_order(indices, keep)
            if not droppable or len(indices) == 1:
                return None
            del indices[droppable[0]], shown[droppable[0]]
            messages = self._messages(question, indices, shown, history)
        return indices, shown, messages

    def _others(self, query: str, side: str, keep, want: int) -> list[int]:
        """Up to ``want`` sections on ``side`` that BM25 finds for ``query`` and ``keep`` allows."""
        chosen: list[int] = []
        texts: set[str] = set()
        for i in self.search.hits(query, SEARCH_DEPTH):
            s = self.sections[i]
            if _side(s.key, self.eval_keys) == side and keep(i) and s.text not in texts:
                chosen.append(i)
                texts.add(s.text)
            if len(chosen) == want:
                return chosen
        pool = self.by_side[side]
        for _ in range(20 * want):
            if len(chosen) == want or not pool:
                break
            i = self.rng.choice(pool)
            if keep(i) and i not in chosen:
                chosen.append(i)
        return chosen

    def grounded(
        self, index: int, derived: Derived, history: list[tuple[str, str]], query: str
    ) -> Item | None:
        section = self.sections[index]
        side = _side(section.key, self.eval_keys)
        gold_text = self._shown(index, derived.question)
        units = pick_units(prose_units(section.text, gold_text), derived)
        if not units:
            return None
        others = self._others(
            query,
            side,
            lambda i: self.sections[i].chunk_id != section.chunk_id,
            self.opt.passages - 1,
        )
        slots = len(others) + 1
        gold = self.rng.choices(range(1, slots + 1), GOLD_POSITION_WEIGHTS[:slots])[0]
        indices = [*others[: gold - 1], index, *others[gold - 1 :]]
        shown = [gold_text if i == index else self._shown(i, derived.question) for i in indices]
        fitted = self._fit(derived.question, indices, shown, history, keep=index)
        if fitted is None:
            return None
        indices, shown, prompt = fitted
        gold = indices.index(index) + 1
        return Item(
            kind="multi_turn" if history else "grounded",
            source=derived.source,
            doc=section.key,
            split=side,
            question=derived.question,
            subject=derived.subject,
            prompt=prompt,
            answer=grounded_answer(units, gold),
            gold=gold,
            shown=shown,
        )

    def unanswerable(self, index: int, derived: Derived) -> Item | None:
        section = self.sections[index]
        side = _side(section.key, self.eval_keys)
        subject = content_words(derived.subject) or content_words(derived.question)

        def lacks_subject(i: int) -> bool:
            other = self.sections[i]
            words = content_words(f"{other.title} {' '.join(other.heading_path)} {other.text}")
            return other.key != section.key and len(subject & words) < 0.5 * len(subject)

        indices = self._others(derived.question, side, lacks_subject, self.opt.passages)
        if not indices:
            return None
        fitted = self._fit(
            derived.question, indices, [self._shown(i, derived.question) for i in indices], []
        )
        if fitted is None:
            return None
        indices, shown, prompt = fitted
        return Item(
            kind="unanswerable",
            source=derived.source,
            doc=section.key,
            split=side,
            question=derived.question,
            subject=derived.subject,
            prompt=prompt,
            answer=dont_know(derived.subject),
            shown=shown,
        )

    def out_of_scope(self, base: str, question: str) -> Item | None:
        digest = int(hashlib.sha256(base.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        side = "eval" if digest < 0.1 and self.by_side["eval"] else "train"
        indices = self._others(question, side, lambda i: True, self.opt.passages)
        fitted = self._fit(question, indices, [self._shown(i, question) for i in indices], [])
        if fitted is None:
            return None
        indices, shown, prompt = fitted
        return Item(
            kind="out_of_scope",
            source="offtopic",
            doc="",
            split=side,
            question=question,
            subject=base,
            prompt=prompt,
            answer=out_of_scope_refusal(self.opt.domain),
            shown=shown,
        )

    # --- all of it --------------------------------------------------------------------
    def build(self) -> tuple[list[Item], dict[str, int]]:
        """Items of every kind, ``count`` in all when the corpus allows (``wanted`` per kind).

        Each derived question is asked once with its answering section (grounded); the
        unanswerable and multi-turn items reuse questions in prompts of their own, so the model
        also sees the same question answered from its source and declined without it. When
        the corpus has too few questions for the grounded share, the other two fill up.
        """
        wanted = {k: round(self.opt.count * share) for k, share in self.opt.shares.items()}
        made: dict[str, list[Item]] = defaultdict(list)
        for base, question in offtopic_questions(self.opt.seed):
            if len(made["out_of_scope"]) >= wanted["out_of_scope"]:
                break
            item = self.out_of_scope(base, question)
            if item is not None:
                made["out_of_scope"].append(item)
        candidates = self.candidates()
        by_doc: dict[str, list[tuple[int, Derived]]] = defaultdict(list)
        for index, derived in candidates:
            by_doc[self.sections[index].key].append((index, derived))
        progress = tqdm(total=self.opt.count, desc="write items", unit="item")
        progress.update(len(made["out_of_scope"]))
        for kind in ("grounded", "unanswerable", "multi_turn"):
            if kind == "multi_turn":  # whatever grounded could not fill
                short = self.opt.count - sum(len(v) for v in made.values()) - wanted[kind]
                wanted[kind] += max(short, 0)
            for index, derived in self.rng.sample(candidates, len(candidates)):
                if len(made[kind]) >= wanted[kind]:
                    break
                item = self._make(kind, index, derived, by_doc)
                if item is not None:
                    made[kind].append(item)
                    progress.update(1)
        progress.close()
        items = [item for kind in self.opt.shares for item in made[kind]]
        return items, wanted

    def _make(self, kind: str, index: int, derived: Derived, by_doc) -> Item | None:
        if kind == "unanswerable":
            return self.unanswerable(index, derived)
        if kind == "grounded":
            return self.grounded(index, derived, [], derived.question)
        same_page = [c for c in by_doc[self.sections[index].key] if c[0] != index]
        if not same_page:
            return None
        first_index, first_derived = self.rng.choice(same_page)
        first = self.grounded(first_index, first_derived, [], first_derived.question)
        if first is None:
            return None
        follow = derived
        if self.rng.random() < 0.5 and len(derived.subject.split()) <= 6:
            follow = Derived(
                f"What about {derived.subject}?", derived.subject, derived.source, derived.anchor
            )
        query = f"{first.question}\n{follow.question}"  # as the gateway's retrieval_query does
        history = [("user", first.question), ("assistant", first.answer)]
        return self.grounded(index, follow, history, query)
