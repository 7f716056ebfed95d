"""Direct Preference Optimization: ``docent train dpo --config FILE``.

The policy is a LoRA adapter (new, or the SFT adapter named by ``adapter``). The reference is
the policy as it was before the first step, frozen: its log-probabilities of every chosen and
rejected answer are computed once up front and kept in ``reference_logps.json``, so a resumed
run compares against the very same reference and no second model sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docent_training.common.config import JobConfig
from docent_training.common.data import Example, Pair, collate, encode, load_pairs
from docent_training.common.loop import Trainer, TrainResult
from docent_training.common.modeling import load_for_training
from docent_training.losses import completion_logps, dpo_loss
from docent_training.sft import finish


@dataclass(frozen=True)
class PairItem:
    chosen: Example
    rejected: Example
    ref_chosen: float
    ref_rejected: float


def encode_pair(tokenizer: Any, pair: Pair, max_length: int) -> tuple[Example, Example]:
    def one(answer: str) -> Example:
        return encode(
            tokenizer, [*pair.prompt, {"role": "assistant", "content": answer}], max_length
        )

    return one(pair.chosen), one(pair.rejected)


def pair_logps(forward: Any, encoded: list[tuple[Example, Example]], pad: int) -> tuple[Any, Any]:
    """Summed answer log-probs of chosen and rejected, in one forward pass of 2 x pairs rows."""
    rows = [c for c, _ in encoded] + [r for _, r in encoded]
    inputs = collate(rows, pad)
    logits = forward(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    logps = completion_logps(logits, inputs["labels"])
    n = len(encoded)
    return logps[:n], logps[n:]


def reference_logps(
    forward: Any, encoded: list[tuple[Example, Example]], pad: int, cache: Path, key: str
) -> list[tuple[float, float]]:
    """The frozen reference's log-probs, computed once and stored for resumed runs."""
    import torch

    stored = json.loads(cache.read_text()) if cache.exists() else {}
    if key in stored and len(stored[key]) == len(encoded):
        return [tuple(x) for x in stored[key]]
    values = []
    with torch.no_grad():
        for i in range(0, len(encoded), 4):
            c, r = pair_logps(forward, encoded[i : i + 4], pad)
            values += list(zip(c.tolist(), r.tolist(), strict=True))
    stored[key] = values
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(stored))
    return values


def train_dpo(
    config: JobConfig, progress: bool = True, on_step: Callable[[int], None] | None = None
) -> TrainResult:
    import torch

    loaded = load_for_training(config, adapter=config.adapter)
    tok, pad, max_len = loaded.tokenizer, loaded.tokenizer.pad_token_id, config.data.max_length
    beta, smoothing = config.dpo.beta, config.dpo.label_smoothing
    cache = config.output_dir / "reference_logps.json"
    loaded.model.eval()

    def items_of(path: Path, key: str) -> list[PairItem]:
        encoded = [encode_pair(tok, p, max_len) for p in load_pairs(path)]
        refs = reference_logps(loaded.model, encoded, pad, cache, key)
        return [PairItem(c, r, rc, rr) for (c, r), (rc, rr) in zip(encoded, refs, strict=True)]

    train = items_of(config.data.train, "train")
    held_out = items_of(config.data.eval, "eval") if config.data.eval else []

    def loss_fn(forward: Any, batch: list[PairItem]) -> tuple[Any, dict[str, float]]:
        pc, pr = pair_logps(forward, [(b.chosen, b.rejected) for b in batch], pad)
        out = dpo_loss(
            pc,
            pr,
            torch.tensor([b.ref_chosen for b in batch]),
            torch.tensor([b.ref_rejected for b in batch]),
            beta,
            smoothing,
        )
        return out.loss, out.metrics()

    def evaluate(forward: Any) -> dict[str, float]:
        pcs, prs = [], []
        for i in range(0, len(held_out), 4):
            chunk = held_out[i : i + 4]
            pc, pr = pair_logps(forward, [(b.chosen, b.rejected) for b in chunk], pad)
            pcs.append(pc)
            prs.append(pr)
        pc, pr = torch.cat(pcs), torch.cat(prs)
        out = dpo_loss(
            pc,
            pr,
            torch.tensor([b.ref_chosen for b in held_out]),
            torch.tensor([b.ref_rejected for b in held_out]),
            beta,
            smoothing,
        )
        # The policy's own preference (no reference): meaningful before the first step too.
        logp_accuracy = float((pc > pr).float().mean())
        return {"loss": float(out.loss), "logp_accuracy": logp_accuracy, **out.metrics()}

    trainer = Trainer(
        loaded.model,
        config,
        train,
        loss_fn,
        evaluate if held_out else None,
        on_step=on_step,
        meta={"kind": "dpo", "beta": beta, "label_smoothing": smoothing},
    )
    result = trainer.run(progress)
    finish(config, result, "dpo", loaded, ("loss", "reward_margin", "accuracy"))
    return result
