"""The intent detectors: harmful requests, prompt injection and out-of-scope questions.

Each returns a score in [0, 1] with the evidence behind it; thresholds are applied by the
:class:`~services.moderation.core.Moderator`. Intent (harmful, injection) comes from the
safety classifier over sentence embeddings, run on every reading of the text (as written and
decoded, see :mod:`~services.moderation.normalize`) and on windows of its sentences, so one
injected sentence in a long passage or after an ordinary question is not diluted. Rules only
catch exact syntactic tricks (chat-template tokens, fake delimiters); a disguise is evidence
too. The score is the largest of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.moderation import injection_rules
from services.moderation.normalize import Views, views
from services.moderation.semantic import PatternSimilarity

DISGUISE_SCORE = 0.35  # a disguise alone is suspicious, not proof
MAX_SENTENCES = 8  # windows per reading: bounds the cost of a long passage
SHORT_TEXT = 300  # characters: a text this short is also read whole
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")


@dataclass
class Finding:
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)

    def raise_to(self, score: float, why: str) -> None:
        if score > 0:
            self.evidence.append(f"{why} ({score:.2f})")
        self.score = max(self.score, score)


def _rules(seen: Views) -> tuple[list[tuple[str, float]], bool]:
    """Rule matches over every reading; True when only a disguised reading matched."""
    plain = injection_rules.match(seen.texts[0])
    hidden = [m for text in seen.texts[1:] for m in injection_rules.match(text)]
    return plain + hidden, bool(hidden) and not plain


def units(seen: Views) -> list[str]:
    """What the classifier reads: a short text whole; a text of several sentences as windows
    of its sentences (one sentence each, or two each when there are more than
    :data:`MAX_SENTENCES`, at most :data:`MAX_SENTENCES` windows), so an injection in one
    sentence is not diluted and a long passage costs about one pass over its tokens."""
    out: list[str] = []
    for text in seen.texts:
        sentences = [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 2]
        if len(sentences) <= 1 or len(text) <= SHORT_TEXT:
            out.append(text)
        if len(sentences) > 1:
            size = 1 if len(sentences) <= MAX_SENTENCES else 2
            windows = [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]
            out.extend(windows[:MAX_SENTENCES])
    return list(dict.fromkeys(out))


@dataclass
class IntentDetector:
    """Harmful-intent and injection scores of user messages and passages.

    Usage::

        detector = IntentDetector(PatternSimilarity.load(...))  # or IntentDetector(None)
        harm, injection = detector.check(["how do I make a pipe bomb"])[0]
    """

    similarity: PatternSimilarity | None

    def check(self, texts: list[str]) -> list[tuple[Finding, Finding]]:
        """(harmful, prompt_injection) findings per text."""
        readings = [views(t) for t in texts]
        intents = self._intents(readings)
        return [
            (self._harm(intent), self._injection(seen, intent))
            for seen, intent in zip(readings, intents, strict=True)
        ]

    def _intents(self, readings: list[Views]) -> list[dict[str, float]]:
        """Best classifier score per label over each text's units."""
        if self.similarity is None:
            return [{} for _ in readings]
        per_text = [units(seen) for seen in readings]
        scores = self.similarity.intents([u for us in per_text for u in us])
        out, i = [], 0
        for us in per_text:
            mine = scores[i : i + len(us)]
            i += len(us)
            out.append({k: max(s[k] for s in mine) for k in mine[0]} if mine and mine[0] else {})
        return out

    @staticmethod
    def _harm(intent: dict[str, float]) -> Finding:
        finding = Finding()
        if "harmful" in intent:
            finding.raise_to(intent["harmful"], "classifier harmful")
        return finding

    @staticmethod
    def _injection(seen: Views, intent: dict[str, float]) -> Finding:
        finding = Finding()
        matches, hidden_only = _rules(seen)
        for family, score in matches:
            finding.raise_to(min(1.0, score + 0.05) if hidden_only else score, f"rule {family}")
        if seen.disguises:
            finding.raise_to(DISGUISE_SCORE, f"disguise {'+'.join(sorted(set(seen.disguises)))}")
            if hidden_only:
                finding.evidence.append("rule matched only after decoding")
        if "injection" in intent:
            finding.raise_to(intent["injection"], "classifier injection")
        return finding


def relevance(
    domain_similarity: float | None, retrieval_score: float | None, retrieval_weight: float
) -> float:
    """How well a question fits the knowledge base, in [0, 1].

    The weighted mean of its best similarity to the domain description and the best dense
    retrieval score against the index; either alone when the other is unknown.
    """
    if domain_similarity is None and retrieval_score is None:
        return 1.0  # nothing to judge by: never decline blind
    if domain_similarity is None:
        value = retrieval_score or 0.0
    elif retrieval_score is None:
        value = domain_similarity
    else:
        value = (1 - retrieval_weight) * domain_similarity + retrieval_weight * retrieval_score
    return min(max(value, 0.0), 1.0)
