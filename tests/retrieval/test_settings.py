from __future__ import annotations

import pytest

from services.retrieval.settings import RetrievalSettings


def test_defaults() -> None:
    settings = RetrievalSettings()
    assert (settings.service_name, settings.port, settings.metrics_port) == (
        "retrieval",
        50052,
        9102,
    )
    assert (settings.dim, settings.rrf_k, settings.fetch_depth, settings.max_k) == (
        384,
        60,
        50,
        100,
    )
    assert settings.resolved_data_dir().name == "retrieval"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCENT_RETRIEVAL_DIM", "768")
    monkeypatch.setenv("DOCENT_RETRIEVAL_RRF_K", "10")
    settings = RetrievalSettings()
    assert (settings.dim, settings.rrf_k, settings.port, settings.service_name) == (
        768, 10, 50052, "retrieval",
    )  # fmt: skip


def test_every_field_is_documented() -> None:
    assert all(field.description for field in RetrievalSettings.model_fields.values())
