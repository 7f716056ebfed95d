"""Follow-up questions rewritten into standalone retrieval queries, from the conversation.

"and how do I undo that?" retrieves nothing useful alone, and the question it refers to is not
always the last one. The rewrite is deterministic and grounded in the index: for each earlier
question, the follow-up is searched (sparse, cheap) together with it, and the follow-up's own
words ("undo") are counted in the passages that come back from documents the earlier question
retrieves by itself, i.e. passages where that earlier topic talks about "undo". The earlier
question with the most such evidence is the one referred to (the most recent wins ties and
takes over when there is no evidence); the query is that question followed by the follow-up.
A 135M-parameter model cannot pick the antecedent reliably; the index can.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from docentlib.errors import DocentError
from services.runtime.clients import RetrievalClient

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
CONTINUATIONS = ("and", "but", "so", "also", "then", "or", "what about", "how about")
_ANAPHORS = """it its it's that this those these them they their there one ones same such former
latter above previous"""
_STOPWORDS = """a an the and or but so also then of to in on at for from by with about as is are was
were be been being do does did done doing have has had can could should would will shall may might
must i me my we our you your he she him her what which who whom whose when where why how if not no
yes please tell more again instead too very just only way ways thing things get make want need know
use using"""
ANAPHORS = frozenset(_ANAPHORS.split())
STOPWORDS = frozenset(_STOPWORDS.split()) | ANAPHORS
STANDALONE_WORDS = 12  # a question this long with an anaphor is still taken as standalone


@dataclass(frozen=True)
class Rewrite:
    query: str
    antecedent: str | None  # the earlier question it was joined with, if any


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_terms(text: str) -> list[str]:
    """Words that carry the topic: not stopwords, not pronouns, at least 3 letters."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS and len(w) >= 3))


def is_follow_up(question: str) -> bool:
    """Opens with a continuation, points back with a pronoun (and is short), or has no topic."""
    lowered = " ".join(words(question))
    if any(lowered == c or lowered.startswith(c + " ") for c in CONTINUATIONS):
        return True
    tokens = lowered.split()
    if any(t in ANAPHORS for t in tokens) and len(tokens) < STANDALONE_WORDS:
        return True
    return not content_terms(question)


def occurrences(terms: Sequence[str], texts: Sequence[str]) -> int:
    """How often the terms (as word prefixes: undo, undone, undoing) occur in ``texts``."""
    patterns = [re.compile(rf"\b{re.escape(t[:5] if len(t) > 5 else t)}", re.I) for t in terms]
    return sum(len(p.findall(text)) for p in patterns for text in texts)


def join(antecedent: str, question: str) -> str:
    return f"{antecedent}\n{question}"


class FollowUpRewriter:
    """Usage::

    rewriter = FollowUpRewriter(retrieval_client)
    (await rewriter.rewrite("and how do I undo that?", earlier_questions)).query
    """

    def __init__(self, retrieval: RetrievalClient, k: int = 5, topic_k: int = 10) -> None:
        self.retrieval, self.k, self.topic_k = retrieval, k, topic_k

    async def rewrite(self, question: str, earlier: Sequence[str]) -> Rewrite:
        """``question`` alone when it stands alone or nothing came before it."""
        earlier = [q for q in earlier if q.strip()]
        if not earlier or not is_follow_up(question):
            return Rewrite(question, None)
        terms = content_terms(question)
        if len(earlier) == 1 or not terms:
            return Rewrite(join(earlier[-1], question), earlier[-1])
        try:
            scores = await asyncio.gather(*(self._score(q, question, terms) for q in earlier))
        except DocentError:  # sparse index unavailable: fall back to the last question
            return Rewrite(join(earlier[-1], question), earlier[-1])
        best = max(range(len(earlier)), key=lambda i: (scores[i], i))
        if scores[best] == 0:
            best = len(earlier) - 1
        return Rewrite(join(earlier[best], question), earlier[best])

    async def _score(self, antecedent: str, question: str, terms: list[str]) -> int:
        """Follow-up words in joint hits from the documents the earlier question is about."""
        topic, joint = await asyncio.gather(
            self.retrieval.search(antecedent, None, self.topic_k, "sparse"),
            self.retrieval.search(join(antecedent, question), None, self.k, "sparse"),
        )
        docs = {h.doc_id for h in topic}
        texts = [f"{' '.join(h.heading_path)} {h.text}" for h in joint if h.doc_id in docs]
        return occurrences(terms, texts)
