"""The intent detectors: harmful requests, prompt injection and out-of-scope questions.

Each returns a score in [0, 1] with the evidence behind it; thresholds are applied by the
:class:`~services.moderation.core.Moderator`. Rules give a high score on a known phrasing; the
embedding similarity (when loaded) gives a graded one on phrasings the rules do not know; the
score is the larger of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.moderation import harmful_rules, injection_rules
from services.moderation.normalize import Views, views
from services.moderation.semantic import PatternSimilarity, contrast_score

# Similarity -> score mapping (see contrast_score): 0.5 at CENTER, 1.0 at CENTER + WIDTH / 2.
HARM_CENTER, HARM_WIDTH = 0.5, 0.8
INJECTION_CENTER, INJECTION_WIDTH = 0.5, 0.8
DISGUISE_SCORE = 0.35  # a disguise alone is suspicious, not proof


@dataclass
class Finding:
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)

    def raise_to(self, score: float, why: str) -> None:
        if score > 0:
            self.evidence.append(f"{why} ({score:.2f})")
        self.score = max(self.score, score)


def _rules(module: object, seen: Views) -> tuple[list[tuple[str, float]], bool]:
    """Rule matches over every reading; True when only a disguised reading matched."""
    plain = module.match(seen.texts[0])  # type: ignore[attr-defined]
    hidden = [m for text in seen.texts[1:] for m in module.match(text)]  # type: ignore[attr-defined]
    return plain + hidden, bool(hidden) and not plain


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
        sims = self._similarities(readings)
        results = []
        for seen, sim in zip(readings, sims, strict=True):
            results.append((self._harm(seen, sim), self._injection(seen, sim)))
        return results

    def _similarities(self, readings: list[Views]) -> list[dict[str, float]]:
        """Best similarity per pattern set over each text's readings."""
        if self.similarity is None:
            return [{} for _ in readings]
        flat = [t for seen in readings for t in seen.texts]
        scores = self.similarity.scores(flat)
        out, i = [], 0
        for seen in readings:
            mine = scores[i : i + len(seen.texts)]
            i += len(seen.texts)
            out.append({k: max(s[k] for s in mine) for k in mine[0]})
        return out

    @staticmethod
    def _harm(seen: Views, sim: dict[str, float]) -> Finding:
        finding = Finding()
        matches, _ = _rules(harmful_rules, seen)
        for family, score in matches:
            finding.raise_to(score, f"rule {family}")
        if "harmful" in sim:
            score = contrast_score(sim["harmful"], sim["benign"], HARM_CENTER, HARM_WIDTH)
            finding.raise_to(score, f"similar to harmful requests {sim['harmful']:.2f}")
        return finding

    @staticmethod
    def _injection(seen: Views, sim: dict[str, float]) -> Finding:
        finding = Finding()
        matches, hidden_only = _rules(injection_rules, seen)
        for family, score in matches:
            finding.raise_to(min(1.0, score + 0.05) if hidden_only else score, f"rule {family}")
        if seen.disguises:
            finding.raise_to(DISGUISE_SCORE, f"disguise {'+'.join(sorted(set(seen.disguises)))}")
            if hidden_only:
                finding.evidence.append("rule matched only after decoding")
        if "injection" in sim:
            score = contrast_score(
                sim["injection"], sim["benign"], INJECTION_CENTER, INJECTION_WIDTH
            )
            finding.raise_to(score, f"similar to known injections {sim['injection']:.2f}")
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
