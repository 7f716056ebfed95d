"""Toxicity with sub-kinds from a Detoxify checkpoint, through the maintained ``detoxify`` package.

``detoxify.Detoxify(checkpoint=..., huggingface_config_path=...)`` reads the checkpoint, builds
the transformers model and tokenizer from a local folder and scores each label with a sigmoid.
This module only checks the inputs first, so that a wrong file is a clear error instead of a
model silently left with random weights, caps the input length at what the model can read, and
names the categories: ``toxicity`` plus ``toxicity.<kind>`` for the others.

One gap in detoxify 0.5.4 (unitaryai/detoxify PR #126, open): it also reads the base model's
config by the Hub name the checkpoint records (``arch.args.model_type``, e.g.
``bert-base-uncased``), even when given a local folder. Offline, that name must therefore be in
the local Hugging Face cache; docs/safety.md says how to put it there.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from detoxify import Detoxify

from docentlib.errors import Unavailable
from services.moderation.settings import ModerationSettings

MAX_TOKENS = 512  # the position limit of every Detoxify base model (BERT, RoBERTa, ALBERT, XLM-R)


@dataclass(frozen=True)
class CheckpointInfo:
    """What a Detoxify checkpoint declares, read before the package loads it."""

    base_model: str  # arch.args.model_type: a Hub name (or a local folder)
    classes: tuple[str, ...]  # dataset.args.classes, in logit order
    weights: frozenset[str]  # the names in its state_dict


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """The checkpoint's config and weight names, memory-mapped so its tensors are not read.

    :raises Unavailable: when the file is not a torch checkpoint in Detoxify's layout.
    """
    try:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        except RuntimeError:  # the legacy (non-zip) format cannot be memory-mapped
            loaded = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise Unavailable(f"{path} cannot be read as a torch checkpoint: {exc}") from None
    if not isinstance(loaded, dict) or "state_dict" not in loaded or "config" not in loaded:
        raise Unavailable(f"{path} is not a Detoxify checkpoint (config + state_dict)")
    try:
        args = loaded["config"]["arch"]["args"]
        names = (str(args["model_type"]), str(args["model_name"]), str(args["tokenizer_name"]))
        classes = tuple(str(c) for c in loaded["config"]["dataset"]["args"]["classes"])
    except (KeyError, TypeError) as exc:
        raise Unavailable(
            f"{path}: its config needs arch.args.model_type, model_name, tokenizer_name and "
            f"dataset.args.classes (failed at {exc!r})"
        ) from None
    base_model, model_class, tokenizer_class = names
    for what, name in (("model", model_class), ("tokenizer", tokenizer_class)):
        if not hasattr(transformers, name):
            raise Unavailable(f"{path}: unknown {what} class {name!r} in its config")
    return CheckpointInfo(base_model, classes, frozenset(loaded["state_dict"]))


def category_names(classes: Sequence[str]) -> list[str]:
    """``toxicity`` for the main label, ``toxicity.<kind>`` for each other one.

    Detoxify has already given every checkpoint's labels the same names (``toxic`` ->
    ``toxicity``, ``severe_toxic`` -> ``severe_toxicity``, ``identity_hate`` ->
    ``identity_attack``).
    """
    return [c if c == "toxicity" else f"toxicity.{c}" for c in classes]


def _check_base_model(info: CheckpointInfo) -> None:
    """Fail early, naming the fix, when detoxify could not find the base model's config."""
    try:
        transformers.AutoConfig.from_pretrained(info.base_model, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise Unavailable(
            f"the Detoxify checkpoint's base model {info.base_model!r} is not in the local "
            "Hugging Face cache (HF_HOME / HF_HUB_CACHE); detoxify reads its config by that "
            f"name even with a local config folder (see docs/safety.md): {exc}"
        ) from None


def _check_weights(model: Any, info: CheckpointInfo, checkpoint: Path) -> None:
    """Every parameter of the built model must come from the checkpoint: transformers fills a
    missing one with random values and only logs it, which would score noise."""
    expected = set(model.state_dict())
    missing = sorted(expected - info.weights)
    unexpected = sorted(k for k in info.weights - expected if not k.endswith("position_ids"))
    if missing or unexpected:
        raise Unavailable(
            f"{checkpoint} does not fit {type(model).__name__}: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}"
        )


def _as_list(value: float | list[float]) -> list[float]:
    return value if isinstance(value, list) else [value]


class DetoxifyBackend:
    """Usage::

    backend = DetoxifyBackend.load(Path("toxic_original-c1212f89.ckpt"), Path("bert-base-uncased"))
    backend.score(["you are an idiot"])[0]  # {"toxicity": 0.98, "toxicity.insult": 0.9, ...}
    """

    name = "detoxify"

    def __init__(self, detoxify: Detoxify) -> None:
        self._detoxify = detoxify
        self._classes = list(detoxify.class_names)
        self.categories = category_names(self._classes)
        self._lock = threading.Lock()  # one forward pass at a time; torch threads inside it

    @classmethod
    def from_settings(cls, settings: ModerationSettings) -> DetoxifyBackend:
        """The registry's factory: both paths must be set (nothing is downloaded)."""
        if settings.detoxify_checkpoint is None or settings.detoxify_config_dir is None:
            raise Unavailable(
                "toxicity_backend=detoxify needs DOCENT_MODERATION_DETOXIFY_CHECKPOINT and "
                "DOCENT_MODERATION_DETOXIFY_CONFIG_DIR (see docs/safety.md)"
            )
        return cls.load(settings.detoxify_checkpoint, settings.detoxify_config_dir)

    @classmethod
    def load(cls, checkpoint: Path, config_dir: Path, device: str = "cpu") -> DetoxifyBackend:
        """Check the checkpoint and the base model, then let ``detoxify`` load them."""
        if not checkpoint.is_file():
            raise Unavailable(f"detoxify checkpoint not found: {checkpoint}")
        if not config_dir.is_dir():
            raise Unavailable(f"detoxify config folder not found: {config_dir}")
        info = inspect_checkpoint(checkpoint)
        _check_base_model(info)
        try:
            detoxify = Detoxify(
                checkpoint=str(checkpoint), device=device, huggingface_config_path=str(config_dir)
            )
        except (OSError, ValueError) as exc:
            raise Unavailable(
                f"detoxify could not load {checkpoint} with {config_dir}: {exc}"
            ) from exc
        _check_weights(detoxify.model, info, checkpoint)
        # Detoxify truncates at the tokenizer's model_max_length, which a tokenizer folder
        # without tokenizer_config.json leaves unbounded: a long text would then overflow the
        # position embeddings instead of being cut.
        positions = getattr(detoxify.model.config, "max_position_embeddings", MAX_TOKENS)
        tokenizer = detoxify.tokenizer
        tokenizer.model_max_length = min(tokenizer.model_max_length, positions, MAX_TOKENS)
        return cls(detoxify)

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        with self._lock:
            by_class = self._detoxify.predict(list(texts))
        # detoxify squeezes its output: one text gives a float per class, several a list.
        columns = [_as_list(by_class[c]) for c in self._classes]
        return [
            {name: float(column[i]) for name, column in zip(self.categories, columns, strict=True)}
            for i in range(len(texts))
        ]
