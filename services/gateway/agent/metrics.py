"""The agent's Prometheus metrics (registered once per process, like the gateway's)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.runtime.metrics import LATENCY_BUCKETS

STEP_SECONDS = Histogram(
    "docent_gateway_agent_step_seconds",
    "Latency of one agent step's model call (thought + action).",
    buckets=LATENCY_BUCKETS,
)
TOOL_SECONDS = Histogram(
    "docent_gateway_agent_tool_seconds",
    "Latency of one tool call, by tool and outcome (ok or error).",
    ["tool", "outcome"],
    buckets=LATENCY_BUCKETS,
)
TOOL_ERRORS = Counter(
    "docent_gateway_agent_tool_errors_total",
    "Tool calls that failed and came back to the model as an error observation, by kind: "
    "bad_arguments, unknown_tool, timeout, http, not_found, unavailable, failed.",
    ["tool", "kind"],
)
RUNS = Counter(
    "docent_gateway_agent_runs_total",
    "Agent runs by how they stopped: answer, max_steps, repeated_action, token_budget, "
    "context_full, refused, invalid_action.",
    ["stop_reason"],
)
STEPS = Histogram(
    "docent_gateway_agent_steps",
    "Model calls per agent run.",
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20),
)
