"""What matters in the rendered chart, beyond schema validity: probes, limits, non-root pods,
one public entry point, GPUs where asked, and autoscalers that read the recorded p95."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.chart import (
    COMPONENTS,
    NAMESPACE,
    VARIANTS,
    by_kind,
    component,
    pod_spec,
    profile_values,
    render,
)

WORKLOADS = ("Deployment", "StatefulSet")
GRPC = ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion")


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in WORKLOADS]


def recorded(objects: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(record name, component label) -> expression, from the PrometheusRule."""
    (rule,) = by_kind(objects, "PrometheusRule")
    out = {}
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            if "record" in r:
                out[(r["record"], r["labels"]["component"])] = r["expr"]
    return out


def parse_selector(query: str) -> tuple[str, dict[str, str]]:
    """``name{a="x",b="y"}`` -> (name, labels); fails on anything else (no functions)."""
    match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}", query)
    assert match, f"not a plain series selector: {query}"
    labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
    return match.group(1), labels


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_container_has_probes_limits_and_runs_non_root(rendered, variant: str) -> None:
    objs = workloads(rendered[variant])
    assert {component(o) for o in objs} >= set(COMPONENTS)
    for obj in objs:
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            name = f"{obj['metadata']['name']}/{c['name']}"
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in c, f"{name} lacks {probe}"
            assert c["resources"]["limits"]["cpu"] and c["resources"]["limits"]["memory"], name
            assert c["resources"]["requests"]["memory"], name
            image = c["image"]
            assert re.search(r":[\w.-]*\d|@sha256:", image) and not image.endswith(":latest"), image
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_docent_containers_use_native_grpc_probes_and_read_only_roots(rendered, variant) -> None:
    for obj in by_kind(rendered[variant], "Deployment"):
        (c,) = pod_spec(obj)["containers"]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        if component(obj) in GRPC:
            port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
            assert c["readinessProbe"]["grpc"] == {"port": port}
            alive = "tcpSocket" if component(obj) == "reranking" else "grpc"
            assert alive in c["livenessProbe"] and alive in c["startupProbe"]
        else:
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # The startup probe allows model loading; the pod's grace period exceeds the drain.
        budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
        assert budget >= 60
        assert pod_spec(obj)["terminationGracePeriodSeconds"] > 10


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_only_the_gateway_is_reachable_from_outside(rendered, variant: str) -> None:
    objs = rendered[variant]
    ingresses = by_kind(objs, "Ingress")
    assert [component(i) for i in ingresses] == ["gateway"]
    backend = ingresses[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "docent-gateway"
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in by_kind(objs, "Service"))
    policies = {component(p): p for p in by_kind(objs, "NetworkPolicy")}
    assert set(policies) >= set(COMPONENTS)
    callers = {
        "embedding": {"gateway", "ingestion", "ingest"},
        "retrieval": {"gateway", "ingestion", "ingest"},
        "reranking": {"gateway"},
        "moderation": {"gateway"},
        "generation": {"gateway"},
        "ingestion": {"gateway", "ingest"},
        "redis": {"gateway", "ingestion"},
        "opensearch": {"retrieval", "ingest"},
    }
    for name, policy in policies.items():
        rules = policy["spec"]["ingress"]
        if name == "gateway":
            assert "from" not in rules[0]  # anyone may call the public API
            continue
        serving = rules[0]
        allowed = {
            f["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for f in serving["from"]
        }
        assert allowed == callers[name], name
        for rule in rules[1:]:  # metrics: only from the monitoring namespace
            assert rule["ports"][0]["port"] == "metrics"
            assert rule["from"][0]["namespaceSelector"]


def test_generation_requests_a_gpu_only_in_the_gpu_profile(rendered) -> None:
    def gen(variant: str) -> dict[str, Any]:
        deployments = by_kind(rendered[variant], "Deployment")
        return next(o for o in deployments if component(o) == "generation")

    gpu = pod_spec(gen("gpu"))
    (c,) = gpu["containers"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert gpu["nodeSelector"] == {"docent.io/node-pool": "gpu"}
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert toleration in gpu["tolerations"]
    assert {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}} in gpu["volumes"]
    term = gpu["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "nvidia.com/gpu.present"
    for variant in ("cpu", "default"):
        for obj in workloads(rendered[variant]):
            for ctr in pod_spec(obj)["containers"]:
                for kind in ("limits", "requests"):
                    assert "nvidia.com/gpu" not in ctr["resources"].get(kind, {}), obj["metadata"]
    # No other component asks for a GPU in the gpu profile either.
    for obj in workloads(rendered["gpu"]):
        if component(obj) != "generation":
            assert "nvidia.com/gpu" not in pod_spec(obj)["containers"][0]["resources"]["limits"]


@pytest.mark.parametrize("variant", ["default", "cpu", "gpu"])
def test_keda_queries_are_the_recording_rules(rendered, variant: str) -> None:
    objs = rendered[variant]
    rules = recorded(objs)
    scaled = by_kind(objs, "ScaledObject")
    assert not by_kind(objs, "HorizontalPodAutoscaler")
    scaled_components = {component(s) for s in scaled}
    assert "gateway" in scaled_components and "generation" in scaled_components
    assert "retrieval" not in scaled_components  # single writer, see values.yaml
    assert "ingestion" not in scaled_components  # fixed replicas, see values.yaml
    for obj in scaled:
        assert obj["spec"]["scaleTargetRef"]["name"] == obj["metadata"]["name"]
        for trigger in obj["spec"]["triggers"]:
            assert trigger["type"] == "prometheus"
            name, labels = parse_selector(trigger["metadata"]["query"])
            assert labels == {"namespace": NAMESPACE, "component": component(obj)}
            assert (name, component(obj)) in rules, trigger["metadata"]["query"]
            assert f'namespace="{NAMESPACE}"' in rules[(name, component(obj))]
            assert float(trigger["metadata"]["threshold"]) > 0
    gen = next(s for s in scaled if component(s) == "generation")
    names = {t["name"]: t for t in gen["spec"]["triggers"]}
    assert parse_selector(names["p95-latency"]["metadata"]["query"])[0] == (
        "docent:generation_ttft_seconds:p95"
    )
    assert parse_selector(names["queue-depth"]["metadata"]["query"])[0] == (
        "docent:generation_requests_waiting:sum"
    )
    assert names["queue-depth"]["metricType"] == "AverageValue"
    assert names["p95-latency"]["metricType"] == "Value"


def test_hpa_alternative_reads_adapter_metrics_of_the_same_rules(rendered) -> None:
    import yaml

    from tests.conftest import REPO

    objs = rendered["gpu-hpa"]
    assert not by_kind(objs, "ScaledObject")
    hpas = by_kind(objs, "HorizontalPodAutoscaler")
    # retrieval: single writer; ingestion: jobs queue per replica, Upload latency says nothing
    # of the backlog (values.yaml), so neither autoscales by default.
    fixed = ("retrieval", "ingestion")
    assert {component(h) for h in hpas} == {c for c in COMPONENTS if c not in fixed}
    adapter = yaml.safe_load((REPO / "k8s" / "prometheus-adapter" / "rules.yaml").read_text())
    served = {r["name"]["as"]: r["seriesQuery"] for r in adapter["rules"]["external"]}
    rules = recorded(objs)
    for hpa in hpas:
        for metric in hpa["spec"]["metrics"]:
            name = metric["external"]["metric"]["name"]
            assert name in served, name
            series, _ = parse_selector(served[name])
            assert (series, component(hpa)) in rules


def test_every_component_is_monitored_and_has_a_latency_alert(rendered) -> None:
    objs = rendered["gpu"]
    monitors = {component(m) for m in by_kind(objs, "ServiceMonitor")}
    assert monitors == set(COMPONENTS)
    (rule,) = by_kind(objs, "PrometheusRule")
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    latency = {a["labels"]["component"] for a in alerts if a["alert"] == "DocentLatencyAboveTarget"}
    assert latency == set(COMPONENTS)
    assert any(a["alert"] == "DocentErrorRatioHigh" for a in alerts)


def test_settings_reach_each_component(rendered) -> None:
    maps = {component(c): c["data"] for c in by_kind(rendered["gpu"], "ConfigMap")}
    assert maps["generation"]["DOCENT_GENERATION_ENGINE"] == "vllm"
    assert maps["embedding"]["DOCENT_EMBEDDING_HOST"] == "0.0.0.0"
    assert maps["embedding"]["DOCENT_EMBEDDING_METRICS_PORT"] == "9101"
    gateway = maps["gateway"]
    for dep, port in zip(GRPC, range(50051, 50057), strict=True):
        assert (
            gateway[f"DOCENT_GATEWAY_{dep.upper()}_ADDRESS"]
            == f"dns:///docent-{dep}-headless.{NAMESPACE}.svc.cluster.local:{port}"
        )
    assert gateway["DOCENT_GATEWAY_STORE"] == "redis"
    assert gateway["DOCENT_GATEWAY_REDIS_URL"] == "redis://docent-redis:6379/0"
    assert maps["retrieval"]["DOCENT_RETRIEVAL_SPARSE_BACKEND"] == "opensearch"
    assert maps["retrieval"]["DOCENT_RETRIEVAL_OPENSEARCH_HOSTS"] == "http://docent-opensearch:9200"
    external = {component(c): c["data"] for c in by_kind(rendered["gpu-hpa"], "ConfigMap")}
    assert external["gateway"]["DOCENT_GATEWAY_REDIS_URL"] == "redis://redis.shared:6379/3"
    assert (
        external["retrieval"]["DOCENT_RETRIEVAL_OPENSEARCH_HOSTS"] == "https://search.shared:9200"
    )
    assert not by_kind(rendered["gpu-hpa"], "StatefulSet")
    ingestion = maps["ingestion"]
    assert ingestion["DOCENT_INGEST_PORT"] == "50056"
    assert ingestion["DOCENT_INGEST_JOB_STORE"] == "redis"  # any replica answers for any job
    assert ingestion["DOCENT_INGEST_REDIS_URL"] == "redis://docent-redis:6379/0"
    for dep, port in (("embedding", 50051), ("retrieval", 50052)):
        assert ingestion[f"DOCENT_INGEST_{dep.upper()}_ADDRESS"] == (
            f"dns:///docent-{dep}-headless.{NAMESPACE}.svc.cluster.local:{port}"
        )
    without = render(profile_values("cpu", {"redis": {"enabled": False}}))
    maps = {component(c): c["data"] for c in by_kind(without, "ConfigMap")}
    assert "DOCENT_GATEWAY_STORE" not in maps["gateway"]  # each replica keeps its own SQLite
    assert "DOCENT_INGEST_JOB_STORE" not in maps["ingestion"]


def test_dependency_credentials_come_from_the_secret_not_config_maps() -> None:
    values = {
        "redis": {"enabled": False, "urlFromSecret": True},
        "opensearch": {"externalUrl": "https://search.shared:9200"},
        "secrets": {
            "redisUrl": "redis://:s3cret@redis.shared:6379/0",
            "opensearchUsername": "docent",
            "opensearchPassword": "hunter22",
        },
    }
    objects = render(profile_values("cpu", values))
    secret = by_kind(objects, "Secret")[0]["stringData"]
    assert secret["redis-url"] == values["secrets"]["redisUrl"]
    assert secret["opensearch-password"] == "hunter22"
    for config in by_kind(objects, "ConfigMap"):
        assert "s3cret" not in str(config["data"]) and "hunter22" not in str(config["data"])
    gateway_map = next(
        c["data"] for c in by_kind(objects, "ConfigMap") if component(c) == "gateway"
    )
    assert gateway_map["DOCENT_GATEWAY_STORE"] == "redis"
    env = {
        component(d): {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        for d in by_kind(objects, "Deployment")
    }
    redis_url = env["gateway"]["DOCENT_GATEWAY_REDIS_URL"]["valueFrom"]["secretKeyRef"]
    assert redis_url["key"] == "redis-url"
    jobs_url = env["ingestion"]["DOCENT_INGEST_REDIS_URL"]["valueFrom"]["secretKeyRef"]
    assert jobs_url["key"] == "redis-url"
    password = env["retrieval"]["DOCENT_RETRIEVAL_OPENSEARCH_PASSWORD"]["valueFrom"]
    assert password["secretKeyRef"]["key"] == "opensearch-password"
    assert "DOCENT_RETRIEVAL_OPENSEARCH_PASSWORD" not in env["embedding"]
    with pytest.raises(Exception, match=r"redis\.urlFromSecret needs"):
        render(profile_values("cpu", {"redis": {"enabled": False, "urlFromSecret": True}}))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_clients_resolve_every_ready_pod_through_a_headless_service(rendered, variant) -> None:
    """Each gRPC service has a headless Service (one DNS record per ready pod) beside its
    ClusterIP one, and the gateway's addresses name the headless ones, so its round-robin
    channels reach every replica the autoscaler adds."""
    objs = rendered[variant]
    services = {o["metadata"]["name"]: o for o in by_kind(objs, "Service")}
    pods = {component(d): d["spec"]["template"]["metadata"]["labels"] for d in workloads(objs)}
    gateway = next(c["data"] for c in by_kind(objs, "ConfigMap") if component(c) == "gateway")
    for name in GRPC:
        regular, headless = services[f"docent-{name}"], services[f"docent-{name}-headless"]
        assert regular["spec"]["type"] == "ClusterIP" and "clusterIP" not in regular["spec"]
        assert headless["spec"]["clusterIP"] == "None"
        assert not headless["spec"].get("publishNotReadyAddresses", False)
        selector = headless["spec"]["selector"]
        assert selector == regular["spec"]["selector"]
        assert selector.items() <= pods[name].items()
        # Only gRPC: the ServiceMonitor's metrics endpoint matches no port here, no double scrape.
        (port,) = headless["spec"]["ports"]
        assert port["name"] == "grpc" and port["targetPort"] == "grpc"
        host = f"docent-{name}-headless.{NAMESPACE}.svc.cluster.local"
        address = gateway[f"DOCENT_GATEWAY_{name.upper()}_ADDRESS"]
        assert address == f"dns:///{host}:{port['port']}"
    assert "docent-gateway-headless" not in services


def test_cluster_domain_is_a_value() -> None:
    objs = render(profile_values("cpu", {"clusterDomain": "corp.internal"}))
    gateway = next(c["data"] for c in by_kind(objs, "ConfigMap") if component(c) == "gateway")
    assert gateway["DOCENT_GATEWAY_RETRIEVAL_ADDRESS"] == (
        f"dns:///docent-retrieval-headless.{NAMESPACE}.svc.corp.internal:50052"
    )
