"""A small documentation folder the data commands run on, and their outputs (module-scoped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOPICS = ["Queue", "Topic", "Consumer", "Producer", "Broker", "Partition", "Snapshot", "Ledger"]


def _page(topic: str) -> str:
    low = topic.lower()
    return f"""# {topic}s

A {topic} is a named resource that stores {low} records for the Harbor message system. Each {low}
belongs to exactly one cluster and is replicated three times by default.

## Creating a {topic}

To create a {low}, follow these steps in order.

1. Open the Harbor console and choose the cluster that will own the {low}.
2. Select the {low} tab and press the create button at the top of the page.
3. Enter a name of at most 40 characters and confirm the replication factor.

The console shows the new {low} after about ten seconds.

## {topic} retention

Retention decides how long a {low} keeps its records before Harbor deletes them. The default
retention period of a {low} is seven days. You can set a retention period between one hour and
ninety days in the {low} settings. Records older than the retention period are removed by a
background task that runs every five minutes.

## Deleting a {topic}

Deleting a {low} removes all of its records and cannot be undone. Harbor asks for the {low}
name as confirmation before it deletes anything. A deleted {low} name can be reused after one
hour.
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("harbor-docs")
    for topic in TOPICS:
        (root / f"{topic.lower()}s.md").write_text(_page(topic), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def eval_questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An evaluation set naming one page: that page must land in the eval split."""
    path = tmp_path_factory.mktemp("eval") / "questions.jsonl"
    record = {"_id": "q1", "text": "How long do ledgers keep records?", "relevant": ["ledgers.md"]}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
