"""The moderation decision: scores per category against thresholds.

Categories: ``toxicity`` (and ``toxicity.<kind>`` where the backend gives kinds) for every
text; ``harmful`` and ``prompt_injection`` for user messages; ``prompt_injection`` for each
retrieved passage; ``out_of_scope`` for a question once retrieval has scored it. Generated
output is checked for toxicity only: it is checked many times per answer, in a sliding window,
so it must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from docentlib.errors import InvalidInput
from docentlib.registry import Registry
from services.moderation.backends.base import ToxicityBackend, ToxicityLoader
from services.moderation.detectors import Finding, IntentDetector, relevance
from services.moderation.semantic import PatternSimilarity
from services.moderation.settings import ModerationSettings


class Direction(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True)
class CategoryResult:
    category: str
    score: float
    threshold: float

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    categories: tuple[CategoryResult, ...]
    evidence: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        flagged = [c.category for c in self.categories if c.flagged]
        return f"flagged: {', '.join(flagged)}" if flagged else ""


def verdict(categories: list[CategoryResult], evidence: list[str] | None = None) -> Verdict:
    return Verdict(not any(c.flagged for c in categories), tuple(categories), tuple(evidence or ()))


# Imported lazily: only the chosen backend's dependencies (detoxify: torch, transformers) load.
TOXICITY_BACKENDS: Registry[ToxicityLoader] = Registry(
    "toxicity backend",
    {
        "profanity-check": "services.moderation.backends.profanity_check:"
        "ProfanityCheckBackend.from_settings",
        "detoxify": "services.moderation.backends.detoxify:DetoxifyBackend.from_settings",
    },
    hints={"detoxify": "pip install detoxify"},
)


def build_backend(name: str, settings: ModerationSettings | None = None) -> ToxicityBackend:
    """The toxicity backend called ``name``; an unknown name fails naming the valid choices."""
    return TOXICITY_BACKENDS.get(name)(settings or ModerationSettings())


def load_similarity(settings: ModerationSettings) -> PatternSimilarity | None:
    """The embedding model with the pattern sets, unless ``settings.semantic`` is off."""
    if not settings.semantic:
        return None
    return PatternSimilarity.load(
        settings.embedding_model, settings.domain_description, threads=settings.threads or None
    )


class Moderator:
    """Decides whether a text may pass.

    Usage::

        settings = ModerationSettings()
        moderator = Moderator(settings, build_backend("profanity-check"), load_similarity(settings))
        moderator.check("How do I roll back a Deployment?", Direction.INPUT).allowed  # True
    """

    def __init__(
        self,
        settings: ModerationSettings,
        toxicity: ToxicityBackend,
        similarity: PatternSimilarity | None = None,
    ) -> None:
        self.settings = settings
        self.toxicity = toxicity
        self.similarity = similarity
        self.intent = IntentDetector(similarity)

    def _validate(self, text: str, what: str = "text") -> None:
        if len(text) > self.settings.max_text_chars:
            raise InvalidInput(
                f"{what} has {len(text)} characters; limit {self.settings.max_text_chars}"
            )

    def _toxicity(self, texts: list[str]) -> list[list[CategoryResult]]:
        threshold = self.settings.toxicity_threshold
        results = []
        for scores in self.toxicity.score(texts):
            names = sorted(scores, key=lambda n: (n != "toxicity", n))  # toxicity first
            results.append([CategoryResult(n, scores[n], threshold) for n in names])
        return results

    def check(self, text: str, direction: Direction) -> Verdict:
        self._validate(text)
        if not text.strip():
            return Verdict(allowed=True, categories=())
        categories = self._toxicity([text])[0]
        if direction == Direction.OUTPUT:
            return verdict(categories)
        harm, injection = self.intent.check([text])[0]
        s = self.settings
        categories += [
            CategoryResult("harmful", round(harm.score, 4), s.harmful_threshold),
            CategoryResult("prompt_injection", round(injection.score, 4), s.injection_threshold),
        ]
        evidence = [f"harmful: {e}" for e in harm.evidence]
        evidence += [f"prompt_injection: {e}" for e in injection.evidence]
        return verdict(categories, evidence)

    def check_passages(self, passages: list[str]) -> list[Verdict]:
        """A prompt_injection verdict per retrieved passage."""
        if len(passages) > self.settings.max_passages:
            raise InvalidInput(
                f"at most {self.settings.max_passages} passages per call, got {len(passages)}"
            )
        for i, passage in enumerate(passages):
            self._validate(passage, f"passages[{i}]")
        indexed = [(i, p) for i, p in enumerate(passages) if p.strip()]
        findings = dict.fromkeys(range(len(passages)), Finding())
        checked = self.intent.check([p for _, p in indexed]) if indexed else []
        for (i, _), (_, injection) in zip(indexed, checked, strict=True):
            findings[i] = injection
        threshold = self.settings.passage_injection_threshold
        return [
            verdict(
                [CategoryResult("prompt_injection", round(f.score, 4), threshold)],
                [f"prompt_injection: {e}" for e in f.evidence],
            )
            for f in findings.values()
        ]

    def check_scope(
        self,
        question: str,
        retrieval_score: float | None,
        retrieval_relevance: float | None = None,
    ) -> Verdict:
        """``out_of_scope`` = 1 - relevance of the question to the knowledge base.

        ``retrieval_relevance`` (the gateway's score on the corpus's own scale) decides when
        given; a configured domain description can only widen the scope. Without it, the raw
        ``retrieval_score`` is mixed with the description as before.
        """
        self._validate(question, "question")
        if not question.strip():
            raise InvalidInput("question must not be empty")
        domain = None
        if self.similarity is not None and "domain" in self.similarity.matrices:
            domain = self.similarity.scores([question])[0]["domain"]
        if retrieval_relevance is not None:
            value = max(retrieval_relevance, domain or 0.0)
        else:
            value = relevance(domain, retrieval_score, self.settings.scope_retrieval_weight)
        evidence = [f"relevance {value:.3f}"]
        if domain is not None:
            evidence.append(f"domain similarity {domain:.3f}")
        if retrieval_score is not None:
            evidence.append(f"top retrieval score {retrieval_score:.3f}")
        if retrieval_relevance is not None:
            evidence.append(f"retrieval relevance {retrieval_relevance:.3f}")
        score = round(1.0 - value, 4)
        return verdict(
            [CategoryResult("out_of_scope", score, self.settings.out_of_scope_threshold)],
            evidence,
        )
