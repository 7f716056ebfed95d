"""The ``docent`` console command for people: ``up``, ``ingest``, ``chat``, ``agent``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bench.generation import app as bench_app
from bench.retrieval_cmd import bench_retrieval
from docent_cli.agent_cmd import agent as agent_command
from docent_cli.data_cmd import data_app
from docent_cli.eval_cmd import eval_app
from docent_cli.keys import app as keys_app
from docent_cli.plan_cmd import plan as plan_command
from docent_cli.train_cmd import train_app
from docentlib.errors import DocentError
from services.runtime.settings import default_data_root

if TYPE_CHECKING:
    from services.ingestion.ingest import IngestReport

app = typer.Typer(
    help="Docent: an assistant that answers from your documents, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(keys_app, name="keys")
bench_app.command("retrieval")(bench_retrieval)
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")
app.command("plan")(plan_command)
app.command("agent")(agent_command)


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def up(
    ingest: Annotated[
        Path | None, typer.Option(help="Folder to ingest once the stack is ready.")
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(help="State folder (default $DOCENT_HOME or ~/.local/share/docent)."),
    ] = None,
    grpc_base_port: Annotated[int, typer.Option(help="First gRPC port (one per service).")] = 50051,
    metrics_base_port: Annotated[int, typer.Option(help="First metrics port.")] = 9101,
    gateway_port: Annotated[int, typer.Option(help="Gateway HTTP port.")] = 8080,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 600.0,
    ingest_timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds the --ingest run may take.")
    ] = 4 * 3600.0,
) -> None:
    """Start every service on localhost, wait until ready, stop them all on Ctrl-C."""
    from docent_cli.stack import plan, port_table
    from docent_cli.supervisor import StackError, Supervisor

    if ingest is not None and not ingest.exists():
        fail(f"--ingest path does not exist: {ingest}")
    home = (home or default_data_root()).resolve()
    components = plan(grpc_base_port, metrics_base_port, gateway_port)
    supervisor = Supervisor(components, home, home / "logs")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"starting Docent (state in {home}, logs in {home / 'logs'})")
    typer.echo(port_table(components))
    supervisor.start()
    try:
        states = asyncio.run(
            supervisor.wait_ready(
                timeout,
                on_change=lambda s: typer.echo(
                    "  " + "  ".join(f"{name}={state}" for name, state in s.items())
                ),
            )
        )
        if states.get("reranking") != "SERVING":
            typer.echo("reranking: not serving (no cross-encoder yet); answers skip reranking")
        if ingest is not None:
            ingestion = next(c for c in components if c.name == "ingestion")
            _ingest_while_up(ingest, f"127.0.0.1:{ingestion.grpc_port}", ingest_timeout)
        url = f"http://127.0.0.1:{gateway_port}"
        typer.secho(f'\nDocent is ready: {url}  (try: docent chat "...")', fg=typer.colors.GREEN)
        typer.echo("Press Ctrl-C to stop.")
        while not stop.wait(1.0):
            if dead := supervisor.exited():
                raise StackError(f"{', '.join(dead)} exited; see {home / 'logs'}")
    except StackError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        supervisor.stop()
        raise typer.Exit(1) from None
    except (DocentError, KeyboardInterrupt) as exc:
        if isinstance(exc, DocentError):
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        supervisor.stop()
        raise typer.Exit(1) from None
    typer.echo("stopping...")
    supervisor.stop()
    typer.echo("stopped")


def _ingest_while_up(path: Path, address: str, timeout: float) -> None:
    """Ingest ``path`` into the running stack. A failed run is reported, not fatal: what was
    indexed stays searchable, and ``docent ingest`` resumes (unchanged files are skipped)."""
    try:
        report = _ingest_by_service(path, address, timeout)
    except DocentError as exc:
        typer.secho(f"ingest of {path} did not finish: {exc}", fg=typer.colors.RED, err=True)
        typer.echo(
            f"the stack keeps serving what was indexed; resume with: "
            f"docent ingest {path} --ingestion {address}",
            err=True,
        )
        return
    _print_report(report, as_json=False)


def _ingest_here(path: Path, embedding: str, retrieval: str, as_json: bool) -> IngestReport:
    """Run the pipeline in this process against embedding and retrieval directly."""
    from services.ingestion.ingest import Ingestor
    from services.ingestion.settings import IngestSettings

    settings = IngestSettings(embedding_address=embedding, retrieval_address=retrieval)

    async def go() -> IngestReport:
        ingestor = Ingestor(settings)
        try:
            return await ingestor.run(path, progress=sys.stderr.isatty() or not as_json)
        finally:
            await ingestor.close()

    return asyncio.run(go())


def _ingest_by_service(path: Path, address: str, timeout: float) -> IngestReport:
    """Ask the ingestion service to ingest ``path`` (absolute: the service resolves it)."""
    from services.ingestion.ingest import IngestReport
    from services.runtime.clients import Endpoint, IngestionClient

    async def go() -> IngestReport:
        client = IngestionClient(Endpoint("ingestion", address, timeout))
        try:
            reply = await client.ingest_path(str(path.absolute()))
        finally:
            await client.close()
        return IngestReport(
            reply.files, reply.ingested, reply.unchanged, dict(reply.failed), reply.chunks,
            reply.seconds,
        )  # fmt: skip

    return asyncio.run(go())


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.__dict__))
    else:
        typer.echo(report.summary())
        for rel, why in report.failed.items():
            typer.echo(f"  failed: {rel}: {why}", err=True)


@app.command()
def ingest(
    path: Annotated[
        Path, typer.Argument(help="A folder of documents (.md .pdf .html .txt) or one file.")
    ],
    address: Annotated[
        str,
        typer.Option(
            "--ingestion",
            envvar="DOCENT_INGESTION_ADDRESS",
            help="Ingestion service address; it reads PATH from its own filesystem.",
        ),
    ] = "127.0.0.1:50056",
    timeout: Annotated[float, typer.Option(help="Seconds the whole run may take.")] = 3600.0,
    embedding: Annotated[
        str | None,
        typer.Option(help="Embedding address: run the pipeline here instead of in the service."),
    ] = None,
    retrieval: Annotated[
        str | None,
        typer.Option(help="Retrieval address: run the pipeline here instead of in the service."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Parse, chunk, embed and index documents; unchanged files are skipped.

    The ingestion service does the work; with --embedding or --retrieval this process does."""
    from services.ingestion.settings import IngestSettings

    if not path.exists():
        fail(f"path does not exist: {path}")
    try:
        if embedding is None and retrieval is None:
            report = _ingest_by_service(path, address, timeout)
        else:
            defaults = IngestSettings()
            report = _ingest_here(
                path,
                embedding or defaults.embedding_address,
                retrieval or defaults.retrieval_address,
                as_json,
            )
    except DocentError as exc:
        fail(str(exc))
    _print_report(report, as_json)


@app.command()
def chat(
    question: Annotated[str, typer.Argument(help="Your question.")],
    url: Annotated[
        str, typer.Option(envvar="DOCENT_URL", help="Gateway URL.")
    ] = "http://127.0.0.1:8080",
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id.")] = None,
) -> None:
    """Ask a question; the answer streams in, followed by its sources."""
    import httpx

    from docentlib.gateway_client import ChatError, stream_chat

    sources: list[dict] = []
    try:
        for event in stream_chat(url, question, conversation):
            if event.event == "sources":
                sources = event.data.get("sources", [])
            elif event.event == "delta":
                typer.echo(event.data.get("text", ""), nl=False)
            elif event.event == "error":
                typer.echo()
                fail(event.data.get("error", {}).get("message", "generation failed"))
            elif event.event == "done":
                typer.echo()
                conv = event.data.get("conversation_id")
                cited = set(event.data.get("citations", []))
                if sources:
                    typer.echo("\nSources:")
                for s in sources:
                    mark = "*" if s.get("n") in cited else " "
                    typer.echo(f" {mark}[{s.get('n')}] {s.get('title')} ({s.get('source_path')})")
                if conv:
                    typer.echo(f"\nconversation: {conv}")
    except ChatError as exc:
        fail(str(exc))
    except httpx.HTTPError as exc:
        fail(f"cannot reach the gateway at {url}: {exc}")


@app.command()
def config(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference of every setting.")
    ] = False,
) -> None:
    """Show the settings each component would start with here (or the full reference)."""
    from docent_cli.config_reference import SETTINGS, current_values, reference_markdown

    if markdown:
        typer.echo(reference_markdown(), nl=False)
        return
    from pydantic import ValidationError

    from docent_cli.config_reference import settings_class
    from services.runtime.settings import describe_errors

    values = {}
    for component in SETTINGS:
        try:
            values[component] = current_values(component)
        except ValidationError as exc:
            fail("; ".join(describe_errors(settings_class(component), exc)))
    typer.echo(json.dumps(values, indent=2))


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
