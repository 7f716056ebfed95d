"""The committed stubs must equal what the .proto files compile to."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from tests.conftest import REPO


def _generate_module():
    spec = importlib.util.spec_from_file_location("proto_generate", REPO / "proto" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_are_current() -> None:
    generate = _generate_module()
    assert generate.check() == 0, "run `make proto` and commit the stubs"


def test_check_fails_when_a_proto_changes(tmp_path: Path) -> None:
    generate = _generate_module()
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    shutil.copytree(
        REPO / "gen" / "python", tmp_path / "gen", ignore=shutil.ignore_patterns("__pycache__")
    )
    proto = tmp_path / "proto" / "docent" / "v1" / "reranking.proto"
    proto.write_text(
        proto.read_text().replace(
            "string model_id = 2;", "string model_id = 2;\n  int32 extra = 3;"
        )
    )
    assert generate.check(tmp_path / "proto", tmp_path / "gen") == 1
