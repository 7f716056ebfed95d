"""Compile ``proto/docent/v1/*.proto`` into the ``docent.v1`` Python package under ``gen/python``.

Run through ``make proto``. ``--check`` compiles into a temporary folder and fails when the
committed stubs differ, so a .proto edited without regenerating is caught by the test suite.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT_ROOT = ROOT / "gen" / "python"
PACKAGE_DIRS = ("docent", "docent/v1")


def compile_to(out: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Compile every contract into ``out``; return the generated files relative to ``out``."""
    protos = sorted(proto_root.glob("docent/v1/*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *[str(p) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for pkg in PACKAGE_DIRS:
        init = out / pkg / "__init__.py"
        init.write_text('"""Generated gRPC contracts (make proto); do not edit."""\n')
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())


def check(proto_root: Path = PROTO_ROOT, out_root: Path = OUT_ROOT) -> int:
    """Return 0 when the committed stubs equal a fresh compilation, else list the differences."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = compile_to(Path(tmp), proto_root)
        committed = sorted(
            p.relative_to(out_root)
            for p in out_root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        stale = [str(p) for p in fresh if not (out_root / p).exists()]
        stale += [str(p) for p in committed if p not in fresh]
        stale += [
            str(p)
            for p in fresh
            if (out_root / p).exists() and not filecmp.cmp(Path(tmp) / p, out_root / p, False)
        ]
    if stale:
        print("stubs out of date (run `make proto`):", *sorted(set(stale)), sep="\n  ")
        return 1
    print("stubs up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed stubs are stale")
    if parser.parse_args().check:
        return check()
    for old in OUT_ROOT.rglob("*"):
        if old.is_file() and "__pycache__" not in old.parts:
            old.unlink()
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    for path in compile_to(OUT_ROOT):
        print("generated", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
