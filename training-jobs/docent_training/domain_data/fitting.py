"""Prompts fitted to the model's window, as the gateway fits them.

The gateway counts each prompt with the model's chat template and drops the lowest-ranked
passages until ``prompt + max_tokens`` fits the context window. Training records are fitted
the same way, with the same tokenizer, so no record is cut by ``max_length`` in training and
none shows the model a prompt longer than it will be served.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Counter = Callable[[list[dict[str, str]]], int]


def chat_token_counter(model: str, cache_dir: Path | None = None) -> Counter:
    """Tokens of a conversation under ``model``'s chat template, generation prompt included."""
    from transformers import AutoTokenizer

    from docent_training.common.modeling import resolve_base

    tokenizer = AutoTokenizer.from_pretrained(resolve_base(model, cache_dir))

    def count(messages: list[dict[str, str]]) -> int:
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return len(ids)

    return count


def drop_order(indices: list[int], keep: int | None) -> list[int]:
    """Positions to drop, lowest-ranked first, never the one holding ``keep``."""
    return [p for p in range(len(indices) - 1, -1, -1) if indices[p] != keep]
