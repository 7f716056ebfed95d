"""The cluster-level objects in k8s/cluster validate strictly for Kubernetes 1.29-1.31."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from tests.conftest import REPO
from tests.deploy.chart import KUBE_VERSIONS

MANIFESTS = sorted((REPO / "k8s" / "cluster").glob("*.yaml"))


def objects() -> list[dict]:
    return [d for path in MANIFESTS for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_cluster_objects_validate(kube: str) -> None:
    objs = objects()
    kinds = {o["kind"] for o in objs}
    assert {"Namespace", "PriorityClass", "Role", "RoleBinding", "ResourceQuota"} <= kinds
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, kube, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {err.message}")


def test_serving_outranks_training_and_the_chart_uses_it() -> None:
    prio = {o["metadata"]["name"]: o for o in objects() if o["kind"] == "PriorityClass"}
    assert prio["docent-serving"]["value"] > prio["docent-training"]["value"]
    assert prio["docent-training"]["preemptionPolicy"] == "Never"
    gpu = yaml.safe_load((REPO / "charts" / "docent" / "values-gpu.yaml").read_text())
    assert gpu["priorityClassName"] == "docent-serving"


def test_training_launcher_is_namespaced_and_narrow() -> None:
    (role,) = [o for o in objects() if o["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "docent"
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert "*" not in verbs and "escalate" not in verbs and "bind" not in verbs
    assert not [o for o in objects() if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
