"""The gateway's Prometheus metrics, registered once per process.

Module-level so that building several apps in one process (tests) never registers a name twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.runtime.metrics import LATENCY_BUCKETS

REQUEST_SECONDS = Histogram(
    "docent_gateway_request_seconds",
    "HTTP request latency, to the last byte (whole stream for SSE).",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
STAGE_SECONDS = Histogram(
    "docent_gateway_stage_seconds",
    "Latency of each chat pipeline stage.",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter(
    "docent_gateway_errors_total",
    "Errors returned to clients (HTTP error bodies and SSE error events), by stable code.",
    ["code"],
)
DISCONNECTS = Counter(
    "docent_gateway_client_disconnects_total",
    "Clients that left before their answer finished; their upstream work was cancelled.",
    ["stage"],
)
REFUSALS = Counter(
    "docent_gateway_refusals_total",
    "Answers refused, by category: harmful, toxicity, prompt_injection, out_of_scope (input "
    "checks) and output_<category> (a streamed answer cut off by output moderation).",
    ["category"],
)
INJECTED_PASSAGES = Counter(
    "docent_gateway_injected_passages_total",
    "Retrieved passages dropped from the prompt because they carried a prompt injection.",
)
