"""The bulk ingestion Job (``ingestJob``): off by default; when enabled, one Job per release
revision runs ``services.ingestion.bulk`` over the knowledge-base PVC, mounted read-only, with
the ingestion ConfigMap's settings and the restricted security context, validates strictly, and
its pods are admitted by the NetworkPolicies of the services it calls."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.deploy.chart import (
    CHART,
    KUBE_VERSIONS,
    NAMESPACE,
    RELEASE,
    VARIANTS,
    by_kind,
    component,
    pod_spec,
    profile_values,
    render,
)

CLAIM = "knowledge-base"
ENABLED = {"ingestJob": {"enabled": True, "claimName": CLAIM}}
# The profiles the Job is rendered with: cpu, and cpu with stateless retrieval on OpenSearch.
PROFILES = ("cpu", "cpu+opensearch")


def render_at(values: dict[str, Any], revision: int) -> list[dict[str, Any]]:
    """``render`` as ``helm upgrade`` to ``revision`` would."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(
            values, name=RELEASE, namespace=NAMESPACE, revision=revision, is_upgrade=True
        )
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


@pytest.fixture(scope="module")
def enabled() -> dict[str, list[dict[str, Any]]]:
    """profile -> every object rendered with the Job enabled."""
    return {p: render(profile_values(p, ENABLED)) for p in PROFILES}


def the_job(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (job,) = by_kind(objects, "Job")
    return job


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector against a pod's labels (matchLabels and matchExpressions)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def admitted_ports(policy: dict[str, Any], labels: dict[str, str]) -> set[str]:
    """Ports of ``policy``'s ingress rules that admit a pod of this release's namespace with
    ``labels`` (a peer with only a podSelector means the policy's own namespace)."""
    ports: set[str] = set()
    for rule in policy["spec"].get("ingress", []):
        peers = rule.get("from")
        admits = peers is None or any(
            "podSelector" in peer
            and "namespaceSelector" not in peer
            and "ipBlock" not in peer
            and matches(peer["podSelector"], labels)
            for peer in peers
        )
        if admits:
            ports.update(str(p["port"]) for p in rule.get("ports", [{"port": "*"}]))
    return ports


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_job_by_default(rendered, variant: str) -> None:
    assert not by_kind(rendered[variant], "Job")


def test_no_job_when_disabled_even_with_a_claim() -> None:
    values = profile_values("cpu", {"ingestJob": {"enabled": False, "claimName": CLAIM}})
    assert not by_kind(render(values), "Job")


@pytest.mark.parametrize("profile", PROFILES)
def test_the_job_ingests_the_read_only_volume_with_the_services_settings(
    enabled, profile: str
) -> None:
    objects = enabled[profile]
    job = the_job(objects)
    assert job["apiVersion"] == "batch/v1"
    assert job["metadata"]["name"] == f"{RELEASE}-ingest-1"  # first install: revision 1
    assert job["spec"]["backoffLimit"] == 3
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert "activeDeadlineSeconds" not in job["spec"]
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert container["command"] == ["python", "-m", "services.ingestion.bulk", "/kb"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "ingest"
    assert labels["app.kubernetes.io/instance"] == RELEASE
    assert component(job) == "ingest"

    # The same image as the ingestion Deployment.
    (deployment,) = [d for d in by_kind(objects, "Deployment") if component(d) == "ingestion"]
    assert container["image"] == pod_spec(deployment)["containers"][0]["image"]

    # The knowledge base: the PVC, read-only, at the path the command ingests.
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    kb = mounts["/kb"]
    assert kb["readOnly"] is True and "subPath" not in kb
    assert volumes[kb["name"]]["persistentVolumeClaim"] == {"claimName": CLAIM, "readOnly": True}
    # Writable paths are emptyDirs; nothing else is a PVC (the models volume is not mounted,
    # as in the ingestion Deployment: the tokenizer is packaged in the image).
    for path in ("/var/lib/docent", "/tmp"):
        assert volumes[mounts[path]["name"]] == {"name": mounts[path]["name"], "emptyDir": {}}
    assert [v["name"] for v in spec["volumes"] if "persistentVolumeClaim" in v] == [kb["name"]]
    deployment_mounts = {
        m["mountPath"] for m in pod_spec(deployment)["containers"][0]["volumeMounts"]
    }
    assert ("/models" in mounts) == ("/models" in deployment_mounts)

    # envFrom the ingestion ConfigMap of the same render: addresses and chunking settings.
    (ref,) = container["envFrom"]
    maps = {c["metadata"]["name"]: c for c in by_kind(objects, "ConfigMap")}
    config = maps[ref["configMapRef"]["name"]]
    assert component(config) == "ingestion"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [ref]
    for dep, port in (("embedding", 50051), ("retrieval", 50052)):
        assert config["data"][f"DOCENT_INGEST_{dep.upper()}_ADDRESS"] == (
            f"dns:///docent-{dep}-headless.{NAMESPACE}.svc.cluster.local:{port}"
        )


@pytest.mark.parametrize("profile", PROFILES)
def test_the_job_runs_restricted(enabled, profile: str) -> None:
    spec = pod_spec(the_job(enabled[profile]))
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["limits"]["cpu"] and container["resources"]["limits"]["memory"]
    assert container["resources"]["requests"]["memory"]


def test_exit_codes_of_bulk_drive_the_retry_policy(enabled) -> None:
    """bulk exits 1 when a dependency failed (retried up to backoffLimit) and 2 on a bad path
    (the Job fails at once); evicted pods are not counted."""
    policy = the_job(enabled["cpu"])["spec"]["podFailurePolicy"]["rules"]
    fail = next(r for r in policy if r["action"] == "FailJob")
    assert fail["onExitCodes"] == {"containerName": "ingest", "operator": "In", "values": [2]}
    ignore = {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert ignore in policy
    assert not any(1 in r.get("onExitCodes", {}).get("values", []) for r in policy)


def test_bulks_exit_codes_are_what_the_policy_assumes(tmp_path, monkeypatch) -> None:
    """The real CLI (tests/ingestion runs it end to end against live services)."""
    from services.ingestion import bulk
    from services.runtime.clients import DependencyError

    monkeypatch.setattr(bulk, "configure_logging", lambda *args: None)
    assert bulk.main([str(tmp_path / "missing")]) == 2
    assert bulk.main([]) == 2
    assert bulk.main([str(tmp_path), str(tmp_path)]) == 2

    async def unavailable(path, settings):
        raise DependencyError("embedding", "connection refused")

    monkeypatch.setattr(bulk, "ingest", unavailable)
    assert bulk.main([str(tmp_path)]) == 1


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_the_job_validates_strictly(enabled, profile: str, kube: str) -> None:
    job = the_job(enabled[profile])
    try:
        kubernetes_validate.validate(job, kube, strict=True)
    except kubernetes_validate.ValidationError as err:
        pytest.fail(f"Job/{job['metadata']['name']} on {kube}: {err.message}")


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_lint_strict_is_clean_with_the_job(kube: str) -> None:
    values = profile_values("cpu", ENABLED)
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{kube}.0")
    assert report["errors"] == [] and report["messages"] == [], report


def test_options_reach_the_job() -> None:
    values = profile_values(
        "cpu",
        {
            "ingestJob": {
                "enabled": True,
                "claimName": "shared-docs",
                "subPath": "handbook",
                "path": "/data/kb",
                "backoffLimit": 6,
                "ttlSecondsAfterFinished": None,
                "activeDeadlineSeconds": 7200,
                "resources": {
                    "requests": {"cpu": "1", "memory": "2Gi"},
                    "limits": {"cpu": "4", "memory": "4Gi"},
                },
                "nodeSelector": {"docent.io/node-pool": "batch"},
                "tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
            },
        },
    )
    job = the_job(render(values))
    assert job["spec"]["backoffLimit"] == 6
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    assert "ttlSecondsAfterFinished" not in job["spec"]
    spec = pod_spec(job)
    (container,) = spec["containers"]
    assert container["command"][-1] == "/data/kb"
    kb = next(m for m in container["volumeMounts"] if m["mountPath"] == "/data/kb")
    assert kb == {"name": "kb", "mountPath": "/data/kb", "readOnly": True, "subPath": "handbook"}
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "shared-docs"
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "4Gi"}
    assert spec["nodeSelector"] == {"docent.io/node-pool": "batch"}
    assert spec["tolerations"][0]["key"] == "batch"
    kubernetes_validate.validate(job, KUBE_VERSIONS[-1], strict=True)


def test_each_upgrade_runs_a_new_job() -> None:
    """A Job's template is immutable: the name carries the revision, so ``helm upgrade``
    replaces the Job instead of failing to patch it."""
    values = profile_values("cpu", ENABLED)
    names = [the_job(render_at(values, r))["metadata"]["name"] for r in (2, 3)]
    assert names == [f"{RELEASE}-ingest-2", f"{RELEASE}-ingest-3"]


def test_enabled_without_a_claim_fails_with_a_clear_message() -> None:
    values = profile_values("cpu", {"ingestJob": {"enabled": True}})
    with pytest.raises(helm.HelmError, match=r"ingestJob\.claimName is required"):
        render(values)


def test_the_job_needs_the_ingestion_config_map() -> None:
    values = profile_values("cpu", {**ENABLED, "ingestion": {"enabled": False}})
    with pytest.raises(helm.HelmError, match=r"ingestJob\.enabled needs ingestion\.enabled"):
        render(values)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"path": "kb"}, "/ingestJob/path"),
        ({"backoffLimit": -1}, "/ingestJob/backoffLimit"),
        ({"subPath": "../etc"}, "/ingestJob/subPath"),
        ({"claim": CLAIM}, "claim"),
    ],
)
def test_schema_rejects_bad_job_values(values: dict[str, Any], complaint: str) -> None:
    bad = {"ingestJob": {**ENABLED["ingestJob"], **values}}
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as err:
        chart.render(bad, name=RELEASE, namespace=NAMESPACE)
    assert complaint in str(err.value)


@pytest.mark.parametrize("profile", PROFILES)
def test_network_policies_admit_the_jobs_pods(enabled, profile: str) -> None:
    objects = enabled[profile]
    labels = the_job(objects)["spec"]["template"]["metadata"]["labels"]
    policies = {component(p): p for p in by_kind(objects, "NetworkPolicy")}
    # The services bulk calls: their gRPC port admits the Job's pods.
    for name in ("embedding", "retrieval"):
        assert "grpc" in admitted_ports(policies[name], labels), name
        assert "metrics" not in admitted_ports(policies[name], labels), name
    if profile.endswith("opensearch"):
        assert admitted_ports(policies["opensearch"], labels) == {"9200"}
    # And nothing it does not call.
    for name in ("reranking", "moderation", "generation", "redis"):
        assert not admitted_ports(policies[name], labels), name
    # The check is not vacuous: another component's pods are refused by embedding.
    other = {**labels, "app.kubernetes.io/component": "moderation"}
    assert not admitted_ports(policies["embedding"], other)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_service_or_workload_selects_the_jobs_pods(enabled, profile: str) -> None:
    """The Job's pods never join a Service's endpoints, a Deployment or a PDB."""
    objects = enabled[profile]
    labels = the_job(objects)["spec"]["template"]["metadata"]["labels"]
    for svc in by_kind(objects, "Service"):
        assert not matches({"matchLabels": svc["spec"]["selector"]}, labels), svc["metadata"]
    for kind in ("Deployment", "StatefulSet", "PodDisruptionBudget"):
        for obj in by_kind(objects, kind):
            assert not matches(obj["spec"]["selector"], labels), obj["metadata"]["name"]


def test_the_install_notes_name_the_job() -> None:
    with helm.Chart.load(CHART) as chart:
        notes = chart.render(
            profile_values("cpu", ENABLED), name=RELEASE, namespace=NAMESPACE, revision=4
        )["docent/templates/NOTES.txt"]
        plain = chart.render(profile_values("cpu"), name=RELEASE, namespace=NAMESPACE)
    assert f"kubectl -n {NAMESPACE} logs -f job/{RELEASE}-ingest-4" in notes
    assert "ingest-" not in plain["docent/templates/NOTES.txt"]
