"""Small datasets the training tests write: grounded QA for SFT, grounded preferences for DPO."""

from __future__ import annotations

import json
import random
from pathlib import Path

NAMES = [
    "billing",
    "ledger",
    "search",
    "vault",
    "router",
    "mailer",
    "scheduler",
    "gateway",
    "indexer",
    "tracker",
    "auditor",
    "archive",
    "notifier",
    "catalog",
    "payments",
    "inventory",
    "profile",
    "session",
    "metrics",
    "reports",
    "uploads",
    "checkout",
    "pricing",
    "shipping",
    "invoices",
    "tickets",
    "alerts",
    "exports",
    "imports",
    "backup",
]


SYSTEM = "Answer with the port number only."


def qa_messages(name: str, port: int) -> list[dict[str, str]]:
    """A short grounded question (a short system prompt keeps the toy sequences small)."""
    passage = f"The {name} service listens on port {port}."
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Passage: {passage}\nQuestion: Which port does {name} use?"},
    ]


def qa_record(rng: random.Random, name: str) -> dict:
    """Chat format: the conversation ends with the answer to learn."""
    port = rng.randrange(1000, 9999)
    return {"messages": [*qa_messages(name, port), {"role": "assistant", "content": str(port)}]}


def write_sft(folder: Path, n_train: int = 32, n_eval: int = 4, seed: int = 0) -> tuple[Path, Path]:
    """Chat-format train.jsonl and a held-out eval.jsonl with unseen service names."""
    rng = random.Random(seed)
    names = list(NAMES)
    train = [qa_record(rng, names[i % (len(names) - 8)]) for i in range(n_train)]
    held = [qa_record(rng, names[len(names) - 8 + i]) for i in range(n_eval)]
    return _write(folder / "sft-train.jsonl", train), _write(folder / "sft-eval.jsonl", held)


def qa_eval(folder: Path, n: int = 6, seed: int = 7) -> Path:
    """QA records for ``docent eval model --judge exact-match``: prompt messages + answer."""
    rng = random.Random(seed)
    rows = []
    for name in NAMES[-n:]:
        port = rng.randrange(1000, 9999)
        rows.append({"prompt": qa_messages(name, port), "answer": str(port)})
    return _write(folder / "qa-heldout.jsonl", rows)


def preference_record(rng: random.Random, name: str) -> dict:
    """Chosen answers quote the passage; rejected ones guess a port the passage never gives."""
    port, wrong = rng.sample(range(1000, 9999), 2)
    return {
        "prompt": [
            {"role": "system", "content": "Answer from the passage."},
            {
                "role": "user",
                "content": f"Passage: {name} listens on port {port}.\nPort of {name}?",
            },
        ],
        "chosen": f"The passage says {name} listens on port {port}.",
        "rejected": f"Probably port {wrong}, I guess.",
    }


def write_dpo(folder: Path, n_train: int = 16, n_eval: int = 8, seed: int = 1) -> tuple[Path, Path]:
    rng = random.Random(seed)
    names = list(NAMES)
    train = [preference_record(rng, names[i % (len(names) - n_eval)]) for i in range(n_train)]
    held = [preference_record(rng, names[len(names) - n_eval + i]) for i in range(n_eval)]
    return _write(folder / "dpo-train.jsonl", train), _write(folder / "dpo-eval.jsonl", held)


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
