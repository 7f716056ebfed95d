"""Toxicity with sub-kinds from a Detoxify checkpoint, loaded from a path (never downloaded).

A Detoxify ``.ckpt`` is a torch pickle ``{"config": ..., "state_dict": ...}``: the config names
the transformers class (``arch.args.model_name``, e.g. ``BertForSequenceClassification``), its
tokenizer class and the label names (``dataset.args.classes``). The base model's config and
tokenizer come from a local folder, so loading needs no network. Reading the checkpoint with
our own loader (the layout the ``detoxify`` package reads) avoids that package's download
path. Scores are sigmoids per label: ``toxicity`` plus ``toxicity.<kind>`` for the others.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docentlib.errors import Unavailable

# Detoxify's label names differ between checkpoints; these are the names we report.
_RENAME = {
    "toxic": "toxicity",
    "toxicity": "toxicity",
    "severe_toxic": "severe_toxicity",
    "identity_hate": "identity_attack",
}
MAX_TOKENS = 512


def _classes(config: dict[str, Any]) -> list[str]:
    try:
        return list(config["dataset"]["args"]["classes"])
    except (KeyError, TypeError):
        raise Unavailable("detoxify checkpoint has no config.dataset.args.classes") from None


def category_names(classes: Sequence[str]) -> list[str]:
    """``toxicity`` for the main label, ``toxicity.<kind>`` for each other one."""
    names = []
    for label in classes:
        name = _RENAME.get(label, label)
        names.append(name if name == "toxicity" else f"toxicity.{name}")
    return names


class DetoxifyBackend:
    """Usage::

    backend = DetoxifyBackend(Path("toxic_original-c1212f89.ckpt"), Path("bert-base-uncased/"))
    backend.score(["you are an idiot"])[0]  # {"toxicity": 0.98, "toxicity.insult": 0.9, ...}
    """

    name = "detoxify"

    def __init__(self, checkpoint: Path, config_dir: Path, device: str = "cpu") -> None:
        import torch
        import transformers

        if not checkpoint.is_file():
            raise Unavailable(f"detoxify checkpoint not found: {checkpoint}")
        if not config_dir.is_dir():
            raise Unavailable(f"detoxify config folder not found: {config_dir}")
        loaded = torch.load(checkpoint, map_location=device, weights_only=False)
        if not isinstance(loaded, dict) or "state_dict" not in loaded or "config" not in loaded:
            raise Unavailable(f"{checkpoint} is not a Detoxify checkpoint (config + state_dict)")
        arch = loaded["config"].get("arch", {}).get("args", {})
        classes = _classes(loaded["config"])
        model_class = getattr(transformers, arch.get("model_name", ""), None)
        tokenizer_class = getattr(transformers, arch.get("tokenizer_name", ""), None)
        if model_class is None or tokenizer_class is None:
            raise Unavailable(f"{checkpoint}: unknown model or tokenizer class in its config")
        config = transformers.AutoConfig.from_pretrained(
            str(config_dir), num_labels=len(classes), local_files_only=True
        )
        self.model = model_class(config)
        state = {k.removeprefix("model."): v for k, v in loaded["state_dict"].items()}
        result = self.model.load_state_dict(state, strict=False)
        unexpected = [k for k in result.unexpected_keys if not k.endswith("position_ids")]
        if result.missing_keys or unexpected:
            raise Unavailable(
                f"{checkpoint} does not fit {arch.get('model_name')}: missing "
                f"{result.missing_keys[:3]}, unexpected {unexpected[:3]}"
            )
        self.model.to(device).eval()
        self.tokenizer = tokenizer_class.from_pretrained(str(config_dir), local_files_only=True)
        self.device = device
        self.categories = category_names(classes)
        self._lock = threading.Lock()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        import torch

        if not texts:
            return []
        batch = self.tokenizer(
            list(texts),
            return_tensors="pt",
            truncation=True,
            padding=True,
            max_length=min(MAX_TOKENS, self.tokenizer.model_max_length),
        ).to(self.device)
        with self._lock, torch.inference_mode():
            probs = torch.sigmoid(self.model(**batch).logits).float().cpu().numpy()
        return [
            {name: float(p) for name, p in zip(self.categories, row, strict=True)} for row in probs
        ]
