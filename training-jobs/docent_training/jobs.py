"""Render a training run as Kubernetes objects: ConfigMap (the config), Job, headless Service.

One node's worth of GPUs is a plain Job (torchrun --standalone). More is an Indexed Job with
one pod per node, PyTorchJob-style: ``MASTER_ADDR`` is pod 0's stable name through a headless
Service, ``WORLD_SIZE`` the pod count and ``RANK`` the pod's completion index, which torchrun
turns into per-process ranks. Checkpoints and outputs live on a PVC, so a retried pod
(``backoffLimit``) resumes from the last checkpoint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from docentlib.errors import InvalidInput, Unavailable

KINDS = ("sft", "dpo", "reranker")
CONFIG_MOUNT = "/etc/docent/train"
OUTPUT_MOUNT = "/outputs"
MASTER_PORT = 29500
INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class JobSpec:
    kind: str
    name: str
    config_text: str
    config_name: str = "config.yaml"
    namespace: str = "docent"
    image: str = "docent/training:latest"
    gpus: int = 1
    gpus_per_node: int = 8
    cpu: str = "8"
    memory: str = "64Gi"
    pvc: str = "docent-training"
    node_selector: dict[str, str] = field(default_factory=lambda: {"docent.io/node-pool": "gpu"})
    backoff_limit: int = 3
    active_deadline_seconds: int = 24 * 3600
    priority_class: str = "docent-training"
    service_account: str = "docent-trainer"
    extra_args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not NAME.match(self.name) or len(self.name) > 52:
            raise InvalidInput(f"job name {self.name!r} must be a DNS label of at most 52 chars")
        if self.gpus < 0 or self.gpus_per_node < 1:
            raise InvalidInput("gpus must be >= 0 and gpus_per_node >= 1")
        if self.backoff_limit < 0 or self.active_deadline_seconds < 1:
            raise InvalidInput("backoff_limit must be >= 0 and the deadline positive")

    @property
    def pods(self) -> int:
        return max(1, math.ceil(self.gpus / self.gpus_per_node))

    @property
    def gpus_per_pod(self) -> int:
        return min(self.gpus, self.gpus_per_node)


def render(spec: JobSpec) -> list[dict[str, Any]]:
    """ConfigMap, (headless Service,) Job: in the order ``kubectl apply`` should create them."""
    labels = {
        "app.kubernetes.io/name": "docent-training",
        "app.kubernetes.io/part-of": "docent",
        "docent.io/training-kind": spec.kind,
        "docent.io/training-job": spec.name,
    }
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(spec, f"{spec.name}-config", labels),
            "data": {spec.config_name: spec.config_text},
        }
    ]
    if spec.pods > 1:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(spec, spec.name, labels),
                "spec": {
                    "clusterIP": "None",
                    "selector": {"docent.io/training-job": spec.name},
                    "ports": [{"name": "rendezvous", "port": MASTER_PORT}],
                    "publishNotReadyAddresses": True,
                },
            }
        )
    objs.append(_job(spec, labels))
    return objs


def to_yaml(objs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs)


def command(spec: JobSpec) -> list[str]:
    config = f"{CONFIG_MOUNT}/{spec.config_name}"
    cli = [
        "train",
        spec.kind,
        *(["--config", config] if spec.kind != "reranker" else []),
        *spec.extra_args,
    ]
    if spec.gpus <= 1:
        return ["docent", *cli]
    launch = ["torchrun", f"--nproc_per_node={spec.gpus_per_pod}"]
    if spec.pods == 1:
        launch.append("--standalone")
    else:
        launch += [
            "--nnodes=$(WORLD_SIZE)",
            "--node_rank=$(RANK)",
            "--master_addr=$(MASTER_ADDR)",
            "--master_port=$(MASTER_PORT)",
        ]
    return [*launch, "-m", "docent_cli.main", *cli]


def _job(spec: JobSpec, labels: dict[str, str]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "requests": {"cpu": spec.cpu, "memory": spec.memory},
        "limits": {"cpu": spec.cpu, "memory": spec.memory},
    }
    if spec.gpus:
        resources["requests"]["nvidia.com/gpu"] = str(spec.gpus_per_pod)
        resources["limits"]["nvidia.com/gpu"] = str(spec.gpus_per_pod)
    env = [
        {"name": "DOCENT_HOME", "value": f"{OUTPUT_MOUNT}/home"},
        {"name": "HF_HUB_OFFLINE", "value": "1"},
        {"name": "TOKENIZERS_PARALLELISM", "value": "false"},
    ]
    if spec.pods > 1:
        env += [
            {"name": "MASTER_ADDR", "value": f"{spec.name}-0.{spec.name}"},
            {"name": "MASTER_PORT", "value": str(MASTER_PORT)},
            {"name": "WORLD_SIZE", "value": str(spec.pods)},
            {
                "name": "RANK",
                "valueFrom": {"fieldRef": {"fieldPath": INDEX_FIELD}},
            },
        ]
    container = {
        "name": "train",
        "image": spec.image,
        "command": command(spec),
        "workingDir": OUTPUT_MOUNT,
        "env": env,
        "resources": resources,
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "outputs", "mountPath": OUTPUT_MOUNT},
            {"name": "shm", "mountPath": "/dev/shm"},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": spec.service_account,
        "automountServiceAccountToken": False,
        "priorityClassName": spec.priority_class,
        "terminationGracePeriodSeconds": 120,  # time to finish a step and checkpoint
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{spec.name}-config"}},
            {"name": "outputs", "persistentVolumeClaim": {"claimName": spec.pvc}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}},
        ],
    }
    if spec.gpus:
        pod["nodeSelector"] = dict(spec.node_selector)
        pod["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    if spec.pods > 1:
        pod["subdomain"] = spec.name
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.backoff_limit,
        "activeDeadlineSeconds": spec.active_deadline_seconds,
        "ttlSecondsAfterFinished": 7 * 24 * 3600,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    if spec.pods > 1:
        job_spec.update(completionMode="Indexed", completions=spec.pods, parallelism=spec.pods)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(spec, spec.name, labels),
        "spec": job_spec,
    }


def _meta(spec: JobSpec, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": spec.namespace, "labels": dict(labels)}


def submit(objs: list[dict[str, Any]], kubeconfig: Path | None = None) -> list[str]:
    """Create the objects through the Kubernetes API (kubeconfig: explicit file or default)."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    try:
        api = config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None)
    except Exception as exc:  # bad or missing kubeconfig
        raise InvalidInput(f"cannot read kubeconfig: {exc}") from exc
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    create = {
        "ConfigMap": core.create_namespaced_config_map,
        "Service": core.create_namespaced_service,
        "Job": batch.create_namespaced_job,
    }
    created = []
    for obj in objs:
        ns = obj["metadata"]["namespace"]
        try:
            create[obj["kind"]](ns, obj)
        except ApiException as exc:
            what = f"{obj['kind']}/{obj['metadata']['name']}"
            raise InvalidInput(f"creating {what} failed: {exc.status} {exc.reason}") from exc
        except Exception as exc:  # connection refused, TLS, timeouts
            raise Unavailable(f"cannot reach the Kubernetes API: {exc}") from exc
        created.append(f"{obj['kind'].lower()}/{obj['metadata']['name']}")
    return created
