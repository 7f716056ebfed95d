"""The local stack plan: ports and the environment each process gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from docent_cli.stack import component_env, plan, port_table


def test_plan_assigns_consecutive_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCENT_RERANKING_DEFAULT_MODEL", raising=False)
    components = plan(grpc_base_port=6000, metrics_base_port=7000, gateway_port=8000)
    by_name = {c.name: c for c in components}
    assert by_name["embedding"].grpc_port == 6000
    assert by_name["generation"].grpc_port == 6004
    assert by_name["generation"].metrics_port == 7004
    assert by_name["gateway"].http_port == 8000
    assert (by_name["ingestion"].grpc_port, by_name["ingestion"].metrics_port) == (6005, 7005)
    # reranking serves the packaged default from start-up, so the stack waits for it ...
    assert by_name["reranking"].required and by_name["retrieval"].required
    # ... unless the default is switched off: then it serves only once a model is trained
    monkeypatch.setenv("DOCENT_RERANKING_DEFAULT_MODEL", "")
    assert not {c.name: c for c in plan(6000, 7000, 8000)}["reranking"].required


def test_gateway_env_points_at_every_service(tmp_path: Path) -> None:
    components = plan(6000, 7000, 8000)
    gateway = components[-1]
    env = component_env(gateway, components, tmp_path)
    assert env["DOCENT_GATEWAY_PORT"] == "8000"
    assert env["DOCENT_GATEWAY_RETRIEVAL_ADDRESS"] == "127.0.0.1:6001"
    assert env["DOCENT_HOME"] == str(tmp_path)
    retrieval_env = component_env(components[1], components, tmp_path)
    assert retrieval_env["DOCENT_RETRIEVAL_PORT"] == "6001"
    assert retrieval_env["DOCENT_RETRIEVAL_METRICS_PORT"] == "7001"
    assert "DOCENT_RETRIEVAL_EMBEDDING_ADDRESS" not in retrieval_env
    assert env["DOCENT_GATEWAY_INGESTION_ADDRESS"] == "127.0.0.1:6005"


def test_ingestion_gets_its_prefix_and_its_peers(tmp_path: Path) -> None:
    components = plan(6000, 7000, 8000)
    ingestion = next(c for c in components if c.name == "ingestion")
    assert ingestion.module == "services.ingestion"
    env = component_env(ingestion, components, tmp_path)
    assert (env["DOCENT_INGEST_PORT"], env["DOCENT_INGEST_METRICS_PORT"]) == ("6005", "7005")
    assert env["DOCENT_INGEST_EMBEDDING_ADDRESS"] == "127.0.0.1:6000"
    assert env["DOCENT_INGEST_RETRIEVAL_ADDRESS"] == "127.0.0.1:6001"
    assert "DOCENT_INGEST_GENERATION_ADDRESS" not in env


def test_port_table_lists_every_component() -> None:
    table = port_table(plan())
    for name in ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion"):
        assert name in table
    assert "8080" in table and "50056" in table and "gateway" in table
