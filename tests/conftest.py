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
        pytest.skip(f"shared Kubernetes docs not found at {K8S_DOCS}")
    return K8S_DOCS
