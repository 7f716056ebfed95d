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


def test_an_ingest_that_fails_under_up_is_reported_and_the_stack_keeps_serving(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``docent up --ingest`` used its readiness timeout as the ingest deadline and stopped
    every service when a big folder took longer; now a failed ingest is reported with the
    command that resumes it, and ``up`` goes on (no exception reaches it)."""
    from docent_cli.main import _ingest_while_up

    address = f"127.0.0.1:{free_port()}"  # nothing listens: the run fails within the timeout
    _ingest_while_up(tmp_path, address, timeout=2.0)
    err = capsys.readouterr().err
    assert f"ingest of {tmp_path} did not finish" in err
    assert f"docent ingest {tmp_path} --ingestion {address}" in err


def test_up_takes_its_own_ingest_deadline() -> None:
    result = runner.invoke(app, ["up", "--help"], terminal_width=200)
    assert "--ingest-timeout" in result.output
