"""The 100 Kubernetes pages the end-to-end tests ingest (the same set in every module)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.conftest import Stack

DEPLOYMENT_PAGE = "concepts/workloads/controllers/deployment.md"


def link_corpus(k8s_docs: Path, root: Path) -> Path:
    """Symlink 100 real pages (the Deployment page first, then workloads) under ``root``."""
    pages = sorted(p.relative_to(k8s_docs).as_posix() for p in k8s_docs.rglob("*.md"))
    workloads = [p for p in pages if p.startswith("concepts/workloads/") and p != DEPLOYMENT_PAGE]
    others = [p for p in pages if p not in workloads and p != DEPLOYMENT_PAGE]
    for rel in [DEPLOYMENT_PAGE, *workloads, *others][:100]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(k8s_docs / rel)
    return root


def ingest(stack: Stack, root: Path) -> dict:
    """``docent ingest --json`` into the stack (unchanged pages are skipped, so it is cheap)."""
    result = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "ingest", str(root), "--json",
         "--embedding", stack.grpc_address("embedding"),
         "--retrieval", stack.grpc_address("retrieval")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
