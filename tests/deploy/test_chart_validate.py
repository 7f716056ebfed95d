"""Every rendered object is valid: built-in kinds for Kubernetes 1.29-1.31 (kubernetes-validate,
strict), KEDA and prometheus-operator objects against their CRD schemas in ../shared/schemas."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.chart import KUBE_VERSIONS, SCHEMAS, VARIANTS, crd_schema

CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): ("keda.sh", "v1alpha1"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("monitoring.coreos.com", "v1"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): ("monitoring.coreos.com", "v1"),
}


def strict(schema: Any) -> Any:
    """Reject unknown fields, as the API server's strict field validation does: every object
    schema with ``properties`` and no open-ended marker gets ``additionalProperties: false``."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_errors(obj: dict[str, Any]) -> list[str]:
    group, version = CRD_KINDS[(obj["apiVersion"], obj["kind"])]
    schema = strict(crd_schema(group, obj["kind"], version))
    # metadata is validated by the API server's ObjectMeta, not the CRD schema.
    body = {k: v for k, v in obj.items() if k != "metadata"}
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(body)
    ]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_builtin_objects_validate_strictly(rendered, variant: str, kube: str) -> None:
    builtin = [o for o in rendered[variant] if (o["apiVersion"], o["kind"]) not in CRD_KINDS]
    assert len(builtin) > 30
    for obj in builtin:
        try:
            kubernetes_validate.validate(obj, kube, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} on {kube}: {err.message}")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_crd_objects_validate_against_shared_schemas(rendered, variant: str) -> None:
    custom = [o for o in rendered[variant] if (o["apiVersion"], o["kind"]) in CRD_KINDS]
    kinds = {o["kind"] for o in custom}
    assert {"ServiceMonitor", "PrometheusRule"} <= kinds
    for obj in custom:
        assert crd_errors(obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"


def test_crd_check_rejects_a_broken_object(rendered) -> None:
    """The CRD validation is not vacuous: a typo and a wrong type are caught."""
    scaled = next(o for o in rendered["gpu"] if o["kind"] == "ScaledObject")
    broken = copy.deepcopy(scaled)
    broken["spec"]["minReplicaCount"] = "one"
    broken["spec"]["triggers"][0]["metricTyp"] = "Value"
    errors = crd_errors(broken)
    assert any("minReplicaCount" in e for e in errors), errors
    assert any("metricTyp" in e for e in errors), errors


def test_shared_schemas_are_present() -> None:
    assert (SCHEMAS / "PROVENANCE.md").is_file()


def test_builtin_check_rejects_an_unknown_field(rendered) -> None:
    deployment = copy.deepcopy(next(o for o in rendered["cpu"] if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.31", strict=True)
