"""``--report DIR``: report.md (summary sentence, figures, per-question table, human scores),
result.json, and PNG plots of score distributions and latency."""

from __future__ import annotations

import json
from pathlib import Path

FIGURES = (
    ("correctness", "must-contain share", "pct"),
    ("token_f1", "token F1 vs reference", "num"),
    ("judge_score", "judge score (1-5)", "num"),
    ("groundedness", "sentences the passages support", "pct"),
    ("reference_support", "sentences the reference supports", "pct"),
    ("citation_precision", "cited passage supports the sentence", "pct"),
    ("model_cited", "answers whose markers the model wrote", "pct"),
    ("attributed", "answers the gateway cited", "pct"),
    ("refusal_rate", "refused", "pct"),
    ("refusal_accuracy", "refusal right", "pct"),
    ("ttft_p50_ms", "time to first token p50 (ms)", "ms"),
    ("ttft_p95_ms", "time to first token p95 (ms)", "ms"),
    ("e2e_p50_ms", "end to end p50 (ms)", "ms"),
    ("e2e_p95_ms", "end to end p95 (ms)", "ms"),
    ("tokens_per_answer", "tokens per answer (prompt + completion)", "num"),
    ("answers_per_hour", "answers per hour (measured)", "num"),
    ("cost_per_1k", "cost per 1,000 answers", "num"),
    ("errors", "failed requests", "num"),
)


TABLE_HEAD = "| id | system | must | F1 | judge | grounded | refused | TTFT ms | e2e ms | answer |"


def _cell(value: object, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "pct" and isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.4g}" if kind == "num" else f"{value:,.0f}"
    return str(value)


def _short(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def markdown(result: dict, human: dict | None) -> str:
    systems = result["systems"]
    names = list(systems)
    lines = ["# Answer evaluation", "", result["sentence"], ""]
    summary = result["summary"]
    if summary.get("win_rate") is not None:
        lines += [f"Win rate against the other system: {summary['win_rate']:.1%} "
                  f"(by the {summary['compared_by']}).", ""]  # fmt: skip
    lines += ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label, kind in FIGURES:
        cells = [_cell(systems[n].get(key), kind) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "![scores](scores.png)", "", "![latency](latency.png)", ""]
    lines += _human_section(human)
    lines += ["## Per question", "", TABLE_HEAD, "|---|" * 1 + "---|" * 9]
    for row in result["rows"]:
        grounded = f"{row['grounded']}/{row['sentences']}" if row["grounded"] is not None else "n/a"
        answer = row["error"] or row["answer"]
        lines.append(
            f"| {row['id']} | {row['system']} | {_cell(row['must_contain'], 'pct')} | "
            f"{_cell(row['f1'], 'num')} | {_cell(row['judge'], 'num')} | {grounded} | "
            f"{'yes' if row['refused'] else 'no'} | {_cell(row['ttft_ms'], 'ms')} | "
            f"{_cell(row['e2e_ms'], 'ms')} | {_short(answer)} |"
        )
    return "\n".join(lines) + "\n"


def _human_section(human: dict | None) -> list[str]:
    if not human or not human.get("ratings"):
        return ["## Human scores", "", "No human ratings for these questions (rate them at "
                "`/review`).", ""]  # fmt: skip
    lines = ["## Human scores", "", f"{human['ratings']} ratings of {human['items']} answers "
             f"by {human['raters']} raters (1-5).", "", "| dimension | mean | agreement |",
             "|---|---|---|"]  # fmt: skip
    for dim, mean in human["means"].items():
        alpha = human.get("agreement", {}).get(dim)
        lines.append(f"| {dim} | {mean:.2f} | {'n/a' if alpha is None else f'{alpha:.2f}'} |")
    return [*lines, "", "Agreement: Krippendorff's alpha (ordinal) over all raters.", ""]


def plots(result: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, names = result["rows"], list(result["systems"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, title in zip(
        axes,
        ("must_contain", "f1", "judge"),
        ("must-contain share", "token F1", "judge 1-5"),
        strict=True,
    ):
        data = [[r[key] for r in rows if r["system"] == n and r[key] is not None] for n in names]
        if any(data):
            ax.hist(data, bins=10, label=names, alpha=0.8)
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
        ax.set_ylabel("answers")
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key, title in zip(
        axes, ("ttft_ms", "e2e_ms"), ("first token", "end to end"), strict=True
    ):
        data = [[r[key] for r in rows if r["system"] == n and r[key] is not None] for n in names]
        if any(data):
            ax.boxplot([d or [0] for d in data], tick_labels=names, showfliers=True)
        ax.set_title(f"{title} (ms)")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)
    return [out / "scores.png", out / "latency.png"]


def write_report(result: dict, human: dict | None, out: Path) -> Path:
    """report.md, result.json and the plots under ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps({**result, "human": human}, indent=1) + "\n")
    plots(result, out)
    path = out / "report.md"
    path.write_text(markdown(result, human), encoding="utf-8")
    return path
