"""Typed settings: one prefix per service, ranges checked, bad values named without a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from services.embedding.settings import EmbeddingSettings
from services.runtime.settings import load_settings
from tests.conftest import REPO


def test_prefix_and_inherited_port_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCENT_EMBEDDING_BATCH_SIZE", "8")
    monkeypatch.setenv("DOCENT_RETRIEVAL_BATCH_SIZE", "999")  # another service's prefix: ignored
    assert load_settings(EmbeddingSettings).batch_size == 8
    with pytest.raises(ValidationError, match="between 0 and 65535"):
        EmbeddingSettings(port=70000)


def test_bad_value_exits_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("DOCENT_EMBEDDING_BATCH_SIZE", "zero")
    with pytest.raises(SystemExit) as info:
        load_settings(EmbeddingSettings)
    assert info.value.code == 2
    assert "invalid setting DOCENT_EMBEDDING_BATCH_SIZE" in capsys.readouterr().err


@pytest.mark.parametrize("service", ["embedding", "retrieval", "moderation", "gateway"])
def test_service_refuses_to_start_on_bad_config(service: str) -> None:
    env_name = f"DOCENT_{service.upper()}_PORT"
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        cwd=REPO, env={"PATH": "/usr/bin:/bin", env_name: "not-a-port"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"invalid setting {env_name}" in result.stderr
    assert "Traceback" not in result.stderr
