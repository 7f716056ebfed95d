"""A cross-encoder with a late-interaction head: query and passage are read together in one
transformer pass (every token attends to both), then each query token is matched to its most
similar passage token and the matches are averaged ("MaxSim").

Why not the usual one-logit head on [CLS]? That head starts from random and needs thousands
of labelled pairs before it ranks well; a few hundred training queries on a CPU do not get
there. The MaxSim head has no new weights: the packaged MiniLM, trained for sentence
similarity, already ranks with it before any fine-tuning, and fine-tuning (listwise loss,
``docent train reranker``) starts from there. Training and serving share this module, so the
model is scored the same way in both.

A model folder holds the transformers encoder and tokenizer plus ``docent_reranker.json``
(``{"head": "maxsim", "scale": ...}``); folders without it are sentence-transformers
CrossEncoders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEAD_FILE = "docent_reranker.json"


def head_of(path: Path) -> str:
    """``maxsim`` for our late-interaction models, ``linear`` for CrossEncoder folders."""
    spec = path / HEAD_FILE
    if not spec.is_file():
        return "linear"
    return str(json.loads(spec.read_text()).get("head", "linear"))


def maxsim(hidden: Any, token_type_ids: Any, attention_mask: Any) -> Any:
    """Per pair: mean over query tokens (segment 0, [CLS] and [SEP] included) of the best
    cosine similarity with a passage token (segment 1). Returns a 1-D tensor in [-1, 1]."""
    import torch

    query = ((token_type_ids == 0) & (attention_mask == 1)).to(hidden.dtype)
    passage = (token_type_ids == 1) & (attention_mask == 1)
    unit = torch.nn.functional.normalize(hidden, dim=-1)
    similarity = unit @ unit.transpose(1, 2)
    similarity = similarity.masked_fill(~passage.unsqueeze(1), -2.0)
    best = similarity.max(dim=-1).values
    return (best * query).sum(dim=1) / query.sum(dim=1).clamp(min=1.0)


class MaxSimCrossEncoder:
    """Encoder + tokenizer + MaxSim head; ``scores`` for serving, ``forward`` for training."""

    def __init__(self, encoder: Any, tokenizer: Any, max_length: int, device: str) -> None:
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.device = device

    @classmethod
    def load(
        cls, path: Path, max_length: int = 256, device: str = "cpu", local_only: bool = True
    ) -> MaxSimCrossEncoder:
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=local_only)
        encoder = AutoModel.from_pretrained(str(path), local_files_only=local_only).to(device)
        limit = min(max_length, getattr(encoder.config, "max_position_embeddings", max_length))
        return cls(encoder, tokenizer, limit, device)

    def features(self, queries: Sequence[str], passages: Sequence[str]) -> Any:
        return self.tokenizer(
            list(queries),
            list(passages),
            padding=True,
            truncation="only_second",
            max_length=self.max_length,
            return_tensors="pt",
            return_token_type_ids=True,
        ).to(self.device)

    def forward(self, features: Any) -> Any:
        """MaxSim of each tokenised pair (with gradients when the caller trains). The encoder
        may run under bf16 autocast; the head always runs in float32, so close scores do
        not collapse into ties."""
        import torch

        hidden = self.encoder(**features).last_hidden_state
        with torch.autocast(hidden.device.type, enabled=False):
            return maxsim(hidden.float(), features["token_type_ids"], features["attention_mask"])

    def scores(self, query: str, passages: Sequence[str], batch_size: int = 32) -> list[float]:
        """Relevance of each passage to ``query``, in input order (no gradients)."""
        import torch

        self.encoder.eval()
        out: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(passages), batch_size):
                chunk = passages[start : start + batch_size]
                out.extend(self.forward(self.features([query] * len(chunk), chunk)).tolist())
        return out

    def save(self, path: Path, scale: float) -> None:
        self.encoder.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
        (path / HEAD_FILE).write_text(
            json.dumps({"head": "maxsim", "scale": scale, "max_length": self.max_length}) + "\n"
        )
