"""Render the Helm chart offline with helm-python-sdk (Helm's Go engine, no binary, no cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from tests.conftest import REPO, SHARED

CHART = REPO / "charts" / "docent"
SCHEMAS = SHARED / "schemas"
NAMESPACE = "docent"
RELEASE = "docent"
KUBE_VERSIONS = ("1.29", "1.30", "1.31")
COMPONENTS = (
    "embedding", "retrieval", "reranking", "moderation", "generation", "ingestion", "gateway",
)  # fmt: skip

# Values combinations the suite renders: the profiles (``a+b``: ``-f values-a.yaml -f
# values-b.yaml``), the gpu profile with the alternative autoscaler (HPA + prometheus-adapter)
# and both datastores as external endpoints, and stateless retrieval on OpenSearch both ways.
VARIANTS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "default": (None, {}),
    "cpu": ("cpu", {}),
    "gpu": ("gpu", {}),
    "gpu-hpa": (
        "gpu",
        {
            "autoscaling": {"engine": "hpa"},
            "redis": {"enabled": False, "externalUrl": "redis://redis.shared:6379/3"},
            "opensearch": {"enabled": False, "externalUrl": "https://search.shared:9200"},
        },
    ),
    "cpu+opensearch": ("cpu+opensearch", {}),
    "gpu+opensearch-hpa": (
        "gpu+opensearch",
        {
            "autoscaling": {"engine": "hpa"},
            "opensearch": {"enabled": False, "externalUrl": "https://search.shared:9200"},
        },
    ),
}


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` wins key by key, as a second ``-f`` file does in Helm."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def profile_values(profile: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values a user passes with ``-f values-<profile>.yaml`` (plus ``extra``); ``a+b``
    is ``-f values-a.yaml -f values-b.yaml``."""
    values: dict[str, Any] = {}
    for name in (profile or "").split("+"):
        if name:
            layer = yaml.safe_load((CHART / f"values-{name}.yaml").read_text()) or {}
            values = deep_merge(values, layer)
    return deep_merge(values, extra or {})


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders for ``values`` (chart defaults underneath)."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith(".yaml"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def component(obj: dict[str, Any]) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def crd_schema(group: str, kind: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of a CRD, from ``../shared/schemas/derived`` (see PROVENANCE.md)."""
    import json

    path = SCHEMAS / "derived" / group / f"{kind.lower()}_{version}.json"
    return json.loads(Path(path).read_text())
