"""How a client channel finds, balances over and retries against the replicas of a service.

An address setting becomes a gRPC target that names every replica: ``host:port`` resolves
through DNS (``dns:///host:port``; in a cluster, a headless Service returns one A record per
ready pod), and a comma-separated list of IP literals (local multi-replica runs) becomes a
static ``ipv4:`` / ``ipv6:`` target. The channel's service config then spreads RPCs over those
addresses round-robin and lets gRPC itself retry the idempotent ones on UNAVAILABLE.

Usage::

    target = grpc_target("127.0.0.1:50051,127.0.0.1:60051")  # "ipv4:127.0.0.1:50051,..."
    options = channel_options(service_config("docent.v1.Embedding", ("Embed",), RetryPolicy()))
    channel = grpc.aio.insecure_channel(target, options=options)
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from services.runtime.resilience import RetryPolicy

# Schemes gRPC resolves itself; an address that starts with one is used as written.
SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:", "xds:")

# Client keepalive: a connection to a pod on a node that vanished (no RST ever comes) is found
# dead within 30 s + 10 s even while idle, instead of holding calls until their deadlines.
# Servers accept pings every 10 s or more (``services.runtime.server``), so these never earn a
# "too many pings" GOAWAY.
KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def grpc_target(address: str) -> str:
    """The gRPC target for an address setting; raises ``ValueError`` naming what is wrong.

    ``host:port`` -> ``dns:///host:port``; ``ip:port,ip:port`` -> ``ipv4:ip:port,ip:port`` (or
    ``ipv6:[ip]:port,...``); a target with a scheme (``dns:///``, ``ipv4:``, ``unix:``) as is.
    """
    address = address.strip()
    if not address:
        raise ValueError("address is empty; expected host:port")
    if address.startswith(SCHEMES):
        return address
    parts = [p.strip() for p in address.split(",")]
    if len(parts) == 1:
        host, _ = _split_host_port(parts[0])
        if not host:
            raise ValueError(f"address {address!r} has no host; expected host:port")
        return f"dns:///{parts[0]}"
    families = {_ip_family(p, address) for p in parts}
    if len(families) > 1:
        raise ValueError(f"address list {address!r} mixes IPv4 and IPv6 addresses")
    return f"{families.pop()}:{','.join(parts)}"


def _split_host_port(part: str) -> tuple[str, int]:
    host, sep, port = part.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address {part!r} needs a port between 1 and 65535 (host:port)")
    return host, int(port)


def _ip_family(part: str, whole: str) -> str:
    host, _ = _split_host_port(part)
    try:
        ip = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise ValueError(
            f"address list {whole!r}: {part!r} is not IP:port; a list must name replicas by IP "
            "(a host name resolves to all its replicas through DNS on its own)"
        ) from None
    if ip.version == 6 and not host.startswith("["):
        raise ValueError(f"address list {whole!r}: write IPv6 addresses as [ip]:port")
    return f"ipv{ip.version}"


def service_config(service: str, idempotent: Sequence[str], retry: RetryPolicy) -> dict[str, Any]:
    """Round-robin over every resolved address; gRPC's retry policy on ``idempotent`` methods.

    ``service`` is the full proto name (``docent.v1.Retrieval``); methods not listed are sent
    once (a streamed answer is never replayed).
    """
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}]}
    policy = retry.to_grpc()
    if policy is not None and idempotent:
        config["methodConfig"] = [
            {
                "name": [{"service": service, "method": m} for m in idempotent],
                "retryPolicy": policy,
            }
        ]
    return config


def channel_options(config: dict[str, Any]) -> list[tuple[str, str | int]]:
    """Channel arguments for a client channel with ``config`` as its service config."""
    return [
        ("grpc.service_config", json.dumps(config)),
        # Our config, not one a DNS TXT record might carry.
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.enable_retries", 1),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
