"""skaffold.yaml validates against Skaffold's v4beta14 schema and deploys through the chart."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPO
from tests.deploy.chart import CHART, COMPONENTS, SCHEMAS


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((REPO / "skaffold.yaml").read_text()) if d]
    assert len(docs) == 1
    return docs[0]


def test_validates_against_the_schema(config: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "skaffold" / "v4beta14.json").read_text())
    # The schema does not pin apiVersion (see PROVENANCE.md); check it separately.
    assert config["apiVersion"] == "skaffold/v4beta14"
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(config)]
    assert errors == []
    broken = dict(config, build={**config["build"], "artifactz": []})
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_every_image_is_an_artifact_and_reaches_the_chart(config: dict[str, Any]) -> None:
    artifacts = {a["image"]: a["docker"]["dockerfile"] for a in config["build"]["artifacts"]}
    assert artifacts == {f"docent/{c}": f"services/{c}/Dockerfile" for c in COMPONENTS}
    for dockerfile in artifacts.values():
        assert (REPO / dockerfile).is_file()
    (release,) = config["deploy"]["helm"]["releases"]
    assert (REPO / release["chartPath"]).resolve() == CHART
    templates = release["setValueTemplates"]
    for c in COMPONENTS:
        key = c.replace("/", "_")
        assert templates[f"{c}.image.repository"] == f"{{{{.IMAGE_REPO_docent_{key}}}}}"
        assert f"IMAGE_DIGEST_docent_{key}" in templates[f"{c}.image.tag"]


def test_profiles_pick_the_chart_profiles(config: dict[str, Any]) -> None:
    profiles = {p["name"]: p for p in config["profiles"]}
    assert set(profiles) == {"cpu", "gpu"}
    (release,) = config["deploy"]["helm"]["releases"]
    assert release["valuesFiles"] == ["charts/docent/values-cpu.yaml"]
    (patch,) = profiles["gpu"]["patches"]
    assert patch["path"] == "/deploy/helm/releases/0/valuesFiles/0"
    assert (REPO / patch["value"]).is_file() and patch["value"].endswith("values-gpu.yaml")
