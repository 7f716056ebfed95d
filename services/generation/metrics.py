"""Generation metrics with the same meaning as vLLM's: TTFT, inter-token and e2e latency."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from services.runtime.metrics import LATENCY_BUCKETS

TIME_TO_FIRST_TOKEN = Histogram(
    "docent_generation_time_to_first_token_seconds",
    "From request receipt to the first generated text.",
    buckets=LATENCY_BUCKETS,
)
INTER_TOKEN_LATENCY = Histogram(
    "docent_generation_inter_token_latency_seconds",
    "Time between consecutive streamed deltas.",
    buckets=LATENCY_BUCKETS,
)
E2E_LATENCY = Histogram(
    "docent_generation_e2e_request_latency_seconds",
    "From request receipt to the finish of the stream.",
    buckets=LATENCY_BUCKETS,
)
GENERATED_TOKENS = Counter("docent_generation_generated_tokens_total", "Tokens generated.")
PROMPT_TOKENS = Counter("docent_generation_prompt_tokens_total", "Prompt tokens processed.")
RUNNING = Gauge("docent_generation_requests_running", "Requests being decoded now.")
WAITING = Gauge("docent_generation_requests_waiting", "Requests queued for the engine.")
