"""`promtool check rules` and `promtool test rules` on the chart's rendered PrometheusRule."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import by_kind

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
UNIT_TESTS = Path(__file__).parent / "promtool" / "rules_test.yaml"

pytestmark = pytest.mark.skipif(
    not Path(PROMTOOL).exists(), reason="no promtool: run `make system-deps` (Debian prometheus)"
)


def write_rules(objects: list[dict], folder: Path) -> Path:
    """The PrometheusRule's groups as a plain Prometheus rules file."""
    (rule,) = by_kind(objects, "PrometheusRule")
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("variant", ["default", "cpu", "gpu"])
def test_promtool_check_rules(rendered, variant: str, tmp_path: Path) -> None:
    result = promtool("check", "rules", write_rules(rendered[variant], tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_for_p95_rules_and_alerts(rendered, tmp_path: Path) -> None:
    write_rules(rendered["default"], tmp_path)
    shutil.copy(UNIT_TESTS, tmp_path / "rules_test.yaml")
    result = promtool("test", "rules", tmp_path / "rules_test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
