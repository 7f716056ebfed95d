"""``docent plan``: tokens, loss, FLOPs, GPU-hours and per-GPU memory before training."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def _number(text: str) -> float:
    """Accept 7e9, 7B, 65b, 1.4T, 500M."""
    scale = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
    t = text.strip().lower()
    try:
        return float(t[:-1]) * scale[t[-1]] if t and t[-1] in scale else float(t)
    except ValueError as exc:
        raise typer.BadParameter(f"not a number: {text!r} (try 7e9 or 7B)") from exc


def plan(
    params: Annotated[str, typer.Option(help="Model parameters, e.g. 7B or 7e9.")],
    gpus: Annotated[int, typer.Option(min=1, help="GPUs in all.")] = 1,
    gpu_mem: Annotated[float, typer.Option(min=1, help="Memory per GPU, GB.")] = 80.0,
    tokens: Annotated[
        str | None, typer.Option(help="Training tokens (default Chinchilla: 20 per parameter).")
    ] = None,
    utilization: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Model FLOPs utilisation.")
    ] = 0.4,
    gpu_flops: Annotated[
        str, typer.Option(help="Peak FLOP/s per GPU (default H100 dense bf16).")
    ] = "989e12",
    gpus_per_node: Annotated[int, typer.Option(min=1, help="GPUs per node (pod).")] = 8,
    lora_rank: Annotated[int, typer.Option(min=1, help="LoRA rank for the adapter methods.")] = 64,
    seq_len: Annotated[int, typer.Option(min=1, help="Tokens per sequence.")] = 2048,
    micro_batch: Annotated[int, typer.Option(min=1, help="Sequences per GPU per step.")] = 1,
    overhead_gb: Annotated[float, typer.Option(min=0, help="CUDA context etc. per GPU.")] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (for train submit --plan).")
    ] = False,
) -> None:
    """Chinchilla tokens and loss, 6ND FLOPs, GPU-hours, and which fine-tuning method fits."""
    from docent_training.plan import PlanInput
    from docent_training.plan import plan as make_plan

    try:
        spec = PlanInput(
            params=_number(params),
            gpus=gpus,
            gpu_mem_gb=gpu_mem,
            tokens=_number(tokens) if tokens else None,
            utilization=utilization,
            gpu_flops=_number(gpu_flops),
            gpus_per_node=gpus_per_node,
            lora_rank=lora_rank,
            seq_len=seq_len,
            micro_batch=micro_batch,
            overhead_gb=overhead_gb,
        )
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    result = make_plan(spec)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    typer.echo(
        f"model {result.params:.3g} params (~{result.layers} layers x {result.hidden} hidden)"
    )
    typer.echo(
        f"tokens {result.tokens:.3g} (Chinchilla-optimal {result.chinchilla_tokens:.3g}); "
        f"fitted loss {result.loss:.3f}"
    )
    typer.echo(
        f"compute {result.flops:.3g} FLOPs = {result.gpu_hours:,.0f} GPU-hours at "
        f"{utilization:.0%} utilisation ({result.wall_hours:,.1f} h on {gpus} GPUs)"
    )
    typer.echo(f"memory per GPU ({gpu_mem:g} GB, {gpus} GPUs):")
    for m in result.methods:
        mark = "fits" if m.fits else "too big"
        typer.echo(
            f"  {m.name:<11} states {m.states_gb:9.2f} GB + activations {m.activations_gb:6.2f}"
            f" = {m.total_gb:9.2f} GB  {mark}"
        )
    typer.echo(f"recommended: {result.recommended or 'nothing fits: add GPUs or memory'}")
