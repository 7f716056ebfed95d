"""Statistics, table and plot for ``docent bench generation`` (vLLM benchmark_serving's metrics).

TTFT: request sent -> first text. TPOT: (e2e - TTFT) / (output tokens - 1), per request.
ITL: the gaps between consecutive streamed chunks, pooled over requests. E2E: sent -> finished.
Output tok/s: every output token of a concurrency level over that level's wall time.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

PERCENTILES = (50, 95, 99)
METRICS = ("ttft", "tpot", "itl", "e2e")


@dataclass
class RequestResult:
    """One request as the client saw it (seconds)."""

    ok: bool
    ttft: float = 0.0
    e2e: float = 0.0
    output_tokens: int = 0
    itl: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def tpot(self) -> float | None:
        if self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)


@dataclass
class LevelSummary:
    """One concurrency level: percentiles in milliseconds, throughput in tokens/s."""

    concurrency: int
    requests: int
    failed: int
    duration_s: float
    output_tokens: int
    output_tok_s: float
    request_s: float
    ms: dict[str, dict[str, float]]
    error: str = ""  # the first failure, when any


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks, as numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(concurrency: int, results: list[RequestResult], duration: float) -> LevelSummary:
    ok = [r for r in results if r.ok]
    series = {
        "ttft": [r.ttft for r in ok],
        "tpot": [t for r in ok if (t := r.tpot) is not None],
        "itl": [gap for r in ok for gap in r.itl],
        "e2e": [r.e2e for r in ok],
    }
    ms = {
        name: {
            "mean": round(1000 * sum(v) / len(v), 2) if v else math.nan,
            **{f"p{p}": round(1000 * percentile(v, p), 2) for p in PERCENTILES},
        }
        for name, v in series.items()
    }
    tokens = sum(r.output_tokens for r in ok)
    return LevelSummary(
        concurrency=concurrency,
        requests=len(results),
        failed=len(results) - len(ok),
        duration_s=round(duration, 3),
        output_tokens=tokens,
        output_tok_s=round(tokens / duration, 2) if duration else 0.0,
        request_s=round(len(ok) / duration, 3) if duration else 0.0,
        ms=ms,
        error=next((r.error for r in results if not r.ok), ""),
    )


def table(label: str, levels: list[LevelSummary]) -> str:
    """A fixed-width table: one row per concurrency level."""
    head = f"{'conc':>4} {'req':>4} {'fail':>4} {'out tok/s':>9} "
    head += " ".join(f"{m + ' p' + str(p):>11}" for m in METRICS for p in PERCENTILES)
    lines = [f"{label} (latencies in ms)", head, "-" * len(head)]
    for s in levels:
        row = f"{s.concurrency:>4} {s.requests:>4} {s.failed:>4} {s.output_tok_s:>9.1f} "
        row += " ".join(f"{s.ms[m][f'p{p}']:>11.1f}" for m in METRICS for p in PERCENTILES)
        lines.append(row)
    return "\n".join(lines)


def save(path: Path, label: str, meta: dict[str, object], levels: list[LevelSummary]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"label": label, **meta, "levels": [asdict(s) for s in levels]}
    path.write_text(json.dumps(body, indent=2) + "\n")


def plot(results_dir: Path, out: Path) -> Path:
    """One PNG comparing every ``*.json`` run in ``results_dir``: latencies and throughput."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))]
    panels = [("ttft", "TTFT p50 (ms)"), ("tpot", "TPOT p50 (ms)"), ("e2e", "E2E p95 (ms)")]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    for run in runs:
        levels = run["levels"]
        x = [s["concurrency"] for s in levels]
        for ax, (metric, title) in zip(axes, panels, strict=False):
            stat = "p95" if metric == "e2e" else "p50"
            ax.plot(x, [s["ms"][metric][stat] for s in levels], marker="o", label=run["label"])
            ax.set_title(title)
        axes[3].plot(x, [s["output_tok_s"] for s in levels], marker="o", label=run["label"])
        axes[3].set_title("output tokens/s")
    for ax in axes:
        ax.set_xlabel("concurrency")
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
    axes[3].legend(fontsize=8)
    fig.suptitle("docent bench generation")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
