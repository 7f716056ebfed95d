"""`helm lint --strict` is clean for each profile, and values.schema.json rejects bad values."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from tests.deploy.chart import CHART, KUBE_VERSIONS, NAMESPACE, RELEASE, VARIANTS, profile_values


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_lint_strict_is_clean(variant: str, kube: str) -> None:
    profile, extra = VARIANTS[variant]
    report = helm.lint(
        CHART, profile_values(profile, extra), strict=True, kube_version=f"v{kube}.0"
    )
    assert report["total_charts_linted"] == 1
    assert report["errors"] == [], report
    assert report["messages"] == [], report


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"gateway": {"replicas": 0}}, "/gateway/replicas"),
        ({"autoscaling": {"engine": "cron"}}, "/autoscaling/engine"),
        ({"replicaCount": 3}, "replicaCount"),
        ({"generation": {"gpu": -1}}, "/generation/gpu"),
        ({"generation": {"env": {"engine": "vllm"}}}, "engine"),
        ({"embedding": {"resources": {"limits": {"cpu": "lots", "memory": "1Gi"}}}}, "cpu"),
        ({"podSecurityContext": {"runAsNonRoot": False, "runAsUser": 0}}, "runAsNonRoot"),
        ({"monitoring": {"rules": {"rateWindow": "two minutes"}}}, "rateWindow"),
        ({"retrieval": {"autoscaling": {"enabled": True}}}, "autoscaling"),
        ({"ingress": {"host": "Not A Host"}}, "/ingress/host"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], complaint: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as err:
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert complaint in str(err.value)


def test_autoscaling_bounds_are_checked() -> None:
    bad = {"gateway": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}}
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmRenderError) as err:
        chart.render(bad, name=RELEASE, namespace=NAMESPACE)
    assert "maxReplicas (2) is below minReplicas (5)" in str(err.value)
