"""Fixtures shared by the whole suite: paths, free ports, a private DOCENT_HOME."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
K8S_DOCS = SHARED / "data" / "kubernetes-docs" / "docs"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test writes to the user's real ~/.local/share/docent."""
    monkeypatch.setenv("DOCENT_HOME", str(tmp_path_factory.mktemp("docent-home")))


@pytest.fixture(scope="session")
def k8s_docs() -> Path:
    if not K8S_DOCS.is_dir():
        pytest.fail(
            f"shared Kubernetes docs not found at {K8S_DOCS}: clone ../shared beside the repo"
        )
    return K8S_DOCS


@pytest.fixture(scope="session")
def smollm2_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged SmolLM2 converted to safetensors once per session (generation, training)."""
    from docentlib.model_store import resolve_llm
    from services.generation.settings import GenerationSettings

    cache = tmp_path_factory.mktemp("smollm2-cache")
    return resolve_llm(GenerationSettings(model_cache_dir=cache)).path
