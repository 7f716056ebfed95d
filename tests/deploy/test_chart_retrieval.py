"""Retrieval in the chart: one writer on a volume with the embedded store, a stateless,
autoscaled Deployment on OpenSearch (``values-opensearch.yaml``)."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from tests.deploy.chart import (
    CHART,
    NAMESPACE,
    RELEASE,
    by_kind,
    component,
    pod_spec,
    profile_values,
    render,
)


def retrieval(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in by_kind(objects, kind) if component(o) == "retrieval"]


def config(objects: list[dict[str, Any]]) -> dict[str, str]:
    (cm,) = retrieval(objects, "ConfigMap")
    return cm["data"]


@pytest.mark.parametrize("variant", ["default", "cpu", "gpu"])
def test_the_embedded_store_is_one_replica_on_its_volume(rendered, variant: str) -> None:
    objects = rendered[variant]
    (deployment,) = retrieval(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    data = next(v for v in pod_spec(deployment)["volumes"] if v["name"] == "data")
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": "docent-retrieval"}}
    assert len(retrieval(objects, "PersistentVolumeClaim")) == 1
    assert not retrieval(objects, "ScaledObject") and not retrieval(
        objects, "HorizontalPodAutoscaler"
    )
    assert "DOCENT_RETRIEVAL_STORE" not in config(objects)  # the service's default: embedded


@pytest.mark.parametrize("variant", ["cpu+opensearch", "gpu+opensearch-hpa"])
def test_the_opensearch_store_is_a_stateless_autoscaled_deployment(rendered, variant) -> None:
    objects = rendered[variant]
    (deployment,) = retrieval(objects, "Deployment")
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    spec = pod_spec(deployment)
    assert {"name": "data", "emptyDir": {}} in spec["volumes"]
    assert not any("persistentVolumeClaim" in v for v in spec["volumes"])
    assert not retrieval(objects, "PersistentVolumeClaim")
    (pdb,) = retrieval(objects, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    data = config(objects)
    assert data["DOCENT_RETRIEVAL_STORE"] == "opensearch"
    assert "DOCENT_RETRIEVAL_SPARSE_BACKEND" not in data
    expected = {"cpu+opensearch": "http://docent-opensearch:9200",
                "gpu+opensearch-hpa": "https://search.shared:9200"}[variant]  # fmt: skip
    assert data["DOCENT_RETRIEVAL_OPENSEARCH_HOSTS"] == expected
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    password = env["DOCENT_RETRIEVAL_OPENSEARCH_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password["key"] == "opensearch-password"
    # The startup probe outlasts the service's own bounded wait for OpenSearch.
    probe = spec["containers"][0]["startupProbe"]
    budget = probe["periodSeconds"] * probe["failureThreshold"]
    assert float(data["DOCENT_RETRIEVAL_OPENSEARCH_STARTUP_TIMEOUT_S"]) + 30 <= budget <= 300


def test_the_autoscaler_reads_retrievals_recorded_p95(rendered) -> None:
    (scaled,) = retrieval(rendered["cpu+opensearch"], "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "docent-retrieval"
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (2, 6)
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["metadata"]["query"] == (
        f'docent:request_latency_seconds:p95{{namespace="{NAMESPACE}",component="retrieval"}}'
    )
    (hpa,) = retrieval(rendered["gpu+opensearch-hpa"], "HorizontalPodAutoscaler")
    (metric,) = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["name"] == "docent_request_latency_p95_seconds"
    assert metric["external"]["metric"]["selector"]["matchLabels"] == {"component": "retrieval"}


def test_the_opensearch_profile_runs_the_datastore_it_needs(rendered) -> None:
    objects = rendered["cpu+opensearch"]
    (statefulset,) = [s for s in by_kind(objects, "StatefulSet") if component(s) == "opensearch"]
    assert statefulset["spec"]["replicas"] == 1
    assert not [s for s in by_kind(rendered["gpu+opensearch-hpa"], "StatefulSet")
                if component(s) == "opensearch"]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"retrieval": {"store": "sqlite"}}, "/retrieval/store"),
        ({"retrieval": {"replicas": 3}}, "/retrieval/replicas"),
        ({"retrieval": {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4}}},
         "autoscaling"),
    ],
)  # fmt: skip
def test_the_embedded_store_cannot_scale_out(values: dict[str, Any], complaint: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as err:
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert complaint in str(err.value)


def test_the_opensearch_store_needs_an_opensearch() -> None:
    values = profile_values("opensearch", {"opensearch": {"enabled": False}})
    with pytest.raises(Exception, match=r"retrieval\.store: opensearch needs opensearch\.enabled"):
        render(values)
