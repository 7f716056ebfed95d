"""Cost per 1,000 answers from measured throughput or measured tokens, never assumed.

A self-hosted system costs its machine's price per hour over the answers it served per hour
(measured by the run, at the run's concurrency); a hosted API costs its price per million
tokens times the tokens an answer used (measured). The ratio of the two is the "N x cheaper".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """What one system costs: per hour of its machine, or per million tokens (hosted)."""

    per_hour: float | None = None
    per_mtok: float | None = None

    def __post_init__(self) -> None:
        if self.per_hour is not None and self.per_mtok is not None:
            raise ValueError("give a price per hour or per million tokens, not both")
        for value in (self.per_hour, self.per_mtok):
            if value is not None and value < 0:
                raise ValueError("prices must not be negative")

    def per_1k_answers(self, summary: dict) -> float | None:
        """Cost of 1,000 answers from the system's summary; None when it cannot be known."""
        if self.per_hour is not None:
            rate = summary.get("answers_per_hour")
            return round(self.per_hour / rate * 1000, 4) if rate else None
        if self.per_mtok is not None:
            tokens = summary.get("tokens_per_answer")
            return round(self.per_mtok * tokens / 1e6 * 1000, 4) if tokens else None
        return None


def cheaper_factor(docent: float | None, other: float | None) -> float | None:
    """How many times cheaper Docent is (below 1: dearer); None when either is unknown."""
    if docent is None or other is None or docent <= 0:
        return None
    return round(other / docent, 2)


def summary_sentence(docent: dict, other: dict | None, label: str, factor: float | None) -> str:
    """The report's first line: 'Docent scores X vs the reference's Y at N x lower cost ...'."""
    mine = docent.get("correctness")
    if other is None:
        return f"Docent scores {_pct(mine)} correctness on {docent['questions']} questions."
    head = f"Docent scores {_pct(mine)} vs {label}'s {_pct(other.get('correctness'))}"
    if factor is None:
        return f"{head} (cost not compared: give both systems a price)."
    if factor >= 1:
        return f"{head} at {factor:g} x lower cost per 1,000 answers."
    return f"{head} at {1 / factor:.2f} x higher cost per 1,000 answers."


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
