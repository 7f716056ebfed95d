"""Writing the records: train and eval files, counts per kind, and a sample to read."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

SAMPLE_PER_KIND = 3


def eval_path(out: Path) -> Path:
    """``sft.jsonl`` -> ``sft.eval.jsonl``: the eval split beside the train file."""
    return out.with_name(f"{out.stem}.eval{out.suffix or '.jsonl'}")


def sample_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.sample.md")


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Atomically (a temporary file renamed), so a failed run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def counts(records: list[dict], key: str = "kind") -> dict[str, dict[str, int]]:
    """{split: {kind: n}} with a ``total`` per split."""
    table: dict[str, dict[str, int]] = {}
    for split in ("train", "eval"):
        c = Counter(r[key] for r in records if r["split"] == split)
        table[split] = {**dict(sorted(c.items())), "total": sum(c.values())}
    return table


def write_sample(path: Path, records: list[dict], render) -> None:
    """A few records of each kind, rendered for a person to read before training on them."""
    seen: Counter[str] = Counter()
    parts = [f"# Sample of {path.stem.removesuffix('.sample')}\n"]
    for record in records:
        if seen[record["kind"]] < SAMPLE_PER_KIND:
            seen[record["kind"]] += 1
            parts.append(f"## {record['id']} ({record['kind']}, {record['split']})\n")
            parts.append(render(record))
    path.write_text("\n".join(parts), encoding="utf-8")


def render_messages(messages: list[dict]) -> str:
    return "\n".join(f"**{m['role']}**:\n\n```text\n{m['content']}\n```\n" for m in messages)


def render_sft(record: dict) -> str:
    return render_messages(record["messages"])


def render_pref(record: dict) -> str:
    return (
        render_messages(record["prompt"][-1:])
        + f"\n**chosen**:\n\n> {record['chosen']}\n\n"
        + f"**rejected ({record['rejected_kind']})**:\n\n> {record['rejected']}\n"
    )
