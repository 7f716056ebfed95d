"""docs/configuration.md is generated from the settings classes and must stay in step."""

from __future__ import annotations

from docent_cli.config_reference import SETTINGS, current_values, reference_markdown
from tests.conftest import REPO


def test_configuration_doc_is_current() -> None:
    committed = (REPO / "docs" / "configuration.md").read_text()
    assert committed == reference_markdown(), (
        "run: docent config --markdown > docs/configuration.md"
    )


def test_every_setting_has_a_description() -> None:
    doc = reference_markdown()
    for line in doc.splitlines():
        if line.startswith("| `DOCENT_"):
            assert not line.rstrip().endswith("|  |"), line


def test_current_values_follow_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DOCENT_RETRIEVAL_PORT", "6123")
    assert current_values("retrieval")["port"] == 6123
    assert set(SETTINGS) == {
        "embedding", "retrieval", "reranking", "moderation", "generation", "gateway", "agent",
        "ingest",
    }  # fmt: skip
