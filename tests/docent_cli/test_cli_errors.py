"""The docent command fails with a one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from tests.conftest import free_port

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/no/such/folder"], "path does not exist"),
        (["up", "--ingest", "/no/such/folder"], "--ingest path does not exist"),
        (
            ["ingest", ".", "--embedding", f"127.0.0.1:{free_port()}",
             "--retrieval", f"127.0.0.1:{free_port()}"],
            "error: retrieval:",
        ),
        (
            ["ingest", ".", "--ingestion", f"127.0.0.1:{free_port()}", "--timeout", "3"],
            "error: ingestion:",
        ),
        (["chat", "hello", "--url", f"http://127.0.0.1:{free_port()}"], "cannot reach the gateway"),
    ],
)  # fmt: skip
def test_clear_error_and_exit_1(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_config_reports_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCENT_GATEWAY_PORT", "eighty")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 1
    assert "invalid setting DOCENT_GATEWAY_PORT" in result.output
