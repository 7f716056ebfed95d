"""Compute and memory planning before a job is submitted: ``docent plan``.

* Chinchilla (Hoffmann et al., 2022): about 20 training tokens per parameter is
  compute-optimal, and the fitted loss is ``L(N, D) = E + A / N**alpha + B / D**beta``.
* Training compute is ``6 N D`` FLOPs; GPU-hours follow from peak FLOP/s and utilisation.
* Memory per GPU for the model states of mixed-precision Adam (ZeRO, Rajbhandari et al., 2020):
  fp16 weights 2 bytes, fp16 gradients 2 bytes, optimizer K = 12 bytes (fp32 master, m, v)
  per parameter. Stage 1 shards the optimizer, 2 also the gradients, 3 also the weights.
* LoRA: a frozen 16-bit base plus adapters; QLoRA: a 4-bit NF4 base whose quantisation
  constants are themselves quantised (double quantisation: 4.127 bits per parameter in all).
  Adapters train in bf16 with fp32 Adam moments: 2 + 2 + 8 = 12 bytes per adapter parameter.
* Activations with gradient checkpointing: the input of each layer is kept (2 bytes per
  hidden value) plus one layer's working set recomputed in backward.
Sizes are in GB (10**9 bytes), as the ZeRO paper reports them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

TOKENS_PER_PARAM = 20.0
E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
K_ADAM = 12  # fp32 master weights, momentum and variance
QLORA_BITS = 4.127  # NF4 plus double-quantised constants (QLoRA paper, section 3)
LORA_BYTES = 12  # bf16 weight + bf16 grad + two fp32 Adam moments per adapter parameter
LORA_PROJECTIONS = 7  # q, k, v, o, gate, up, down
WORKING_SET_BYTES = 34  # per token per hidden unit inside one transformer layer (16-bit)


@dataclass(frozen=True)
class PlanInput:
    params: float
    gpus: int
    gpu_mem_gb: float
    tokens: float | None = None
    utilization: float = 0.4
    gpu_flops: float = 989e12  # H100 SXM dense bf16
    gpus_per_node: int = 8
    lora_rank: int = 64
    seq_len: int = 2048
    micro_batch: int = 1
    hidden: int | None = None
    layers: int | None = None
    overhead_gb: float = 1.0  # CUDA context and allocator slack per GPU

    def __post_init__(self) -> None:
        for name in ("params", "gpus", "gpu_mem_gb", "gpu_flops", "seq_len", "micro_batch"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 < self.utilization <= 1:
            raise ValueError("utilization must be in (0, 1]")
        if self.tokens is not None and self.tokens <= 0:
            raise ValueError("tokens must be positive")


@dataclass
class Method:
    name: str
    states_gb: float  # weights, gradients, optimizer per GPU
    activations_gb: float
    total_gb: float
    fits: bool


@dataclass
class Plan:
    params: float
    tokens: float
    chinchilla_tokens: float
    loss: float
    chinchilla_loss: float
    flops: float
    gpu_hours: float
    wall_hours: float
    hidden: int
    layers: int
    lora_params: float
    methods: list[Method] = field(default_factory=list)
    recommended: str | None = None
    job: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def chinchilla_tokens(params: float) -> float:
    return TOKENS_PER_PARAM * params


def fitted_loss(params: float, tokens: float) -> float:
    return E + A / params**ALPHA + B / tokens**BETA


def training_flops(params: float, tokens: float) -> float:
    return 6.0 * params * tokens


def shape(params: float) -> tuple[int, int]:
    """(hidden, layers) of a Llama-like model of ``params``: N = 12 L d^2 with d / L = 128."""
    d = (128 * params / 12) ** (1 / 3)
    return int(round(d / 128) * 128), max(1, round(d / 128))


def zero_states_gb(params: float, gpus: int, stage: int) -> float:
    """Model-state bytes per GPU under ZeRO ``stage`` (2 + 2 + K bytes per parameter)."""
    weights, grads, optim = 2 * params, 2 * params, K_ADAM * params
    if stage >= 1:
        optim /= gpus
    if stage >= 2:
        grads /= gpus
    if stage >= 3:
        weights /= gpus
    return (weights + grads + optim) / 1e9


def lora_params(hidden: int, layers: int, rank: int) -> float:
    """Adapter parameters on all seven projections (MLP width ~ 8/3 of hidden)."""
    ffn = 8 * hidden / 3
    per_layer = rank * (4 * 2 * hidden + 3 * (hidden + ffn))
    return per_layer * layers


def activations_gb(p: PlanInput, hidden: int, layers: int) -> float:
    tokens = p.seq_len * p.micro_batch
    kept = tokens * hidden * 2 * layers
    return (kept + tokens * hidden * WORKING_SET_BYTES) / 1e9


def plan(p: PlanInput) -> Plan:
    hidden, layers = shape(p.params)
    hidden, layers = p.hidden or hidden, p.layers or layers
    tokens = p.tokens or chinchilla_tokens(p.params)
    flops = training_flops(p.params, tokens)
    gpu_hours = flops / (p.gpu_flops * p.utilization) / 3600
    act = activations_gb(p, hidden, layers)
    adapters = lora_params(hidden, layers, p.lora_rank)
    out = Plan(
        params=p.params,
        tokens=tokens,
        chinchilla_tokens=chinchilla_tokens(p.params),
        loss=fitted_loss(p.params, tokens),
        chinchilla_loss=fitted_loss(p.params, chinchilla_tokens(p.params)),
        flops=flops,
        gpu_hours=gpu_hours,
        wall_hours=gpu_hours / p.gpus,
        hidden=hidden,
        layers=layers,
        lora_params=adapters,
    )
    states = {f"full-zero{s}": zero_states_gb(p.params, p.gpus, s) for s in range(4)}
    states["lora"] = (2 * p.params + LORA_BYTES * adapters) / 1e9
    states["qlora"] = (QLORA_BITS / 8 * p.params + LORA_BYTES * adapters) / 1e9
    for name, gb in states.items():
        total = gb + act + p.overhead_gb
        out.methods.append(Method(name, gb, act, total, total <= p.gpu_mem_gb))
    # Cheapest memory story that fits, preferring full fine-tuning when it does.
    for name in ("full-zero0", "full-zero1", "full-zero2", "full-zero3", "lora", "qlora"):
        if next(m for m in out.methods if m.name == name).fits:
            out.recommended = name
            break
    out.job = job_resources(p, out)
    return out


def job_resources(p: PlanInput, result: Plan) -> dict:
    """What ``docent train submit --plan`` takes: GPUs, pods, DeepSpeed config, deadline."""
    method = result.recommended
    deepspeed = {
        "full-zero1": "zero2.json",
        "full-zero2": "zero2.json",
        "full-zero3": "zero3.json",
    }.get(method or "")
    nodes = math.ceil(p.gpus / p.gpus_per_node)
    deadline = int(min(max(result.wall_hours * 1.5, 0.25), 24 * 30) * 3600)
    return {
        "method": method,
        "gpus": p.gpus,
        "nodes": nodes,
        "gpus_per_node": min(p.gpus, p.gpus_per_node),
        "gpu_mem_gb": p.gpu_mem_gb,
        "deepspeed": deepspeed,
        "active_deadline_seconds": deadline,
    }
