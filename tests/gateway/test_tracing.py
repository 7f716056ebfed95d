"""Spans: one server span per request, one child span per pipeline stage."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.gateway.app import create_app
from tests.gateway.conftest import serving

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        pytest.skip("another tracer provider is installed in this process")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def _ancestors(span, by_id: dict) -> list:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_stage_spans_descend_from_one_server_span(fake_stack, spans) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post(
            "/v1/chat", json={"message": "How do I roll back?"}, headers={"traceparent": PARENT}
        )
    assert reply.status_code == 200
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    servers = [s for s in finished if s.kind == trace.SpanKind.SERVER]
    assert len(servers) == 1, [s.name for s in servers]
    server = servers[0]
    assert server.name == "POST /v1/chat"
    assert server.attributes["http.route"] == "/v1/chat"
    assert format(server.context.trace_id, "032x") == PARENT.split("-")[1]  # caller's trace
    for stage in ("moderation", "embedding", "retrieval", "reranking", "prompt", "generation"):
        span = next(s for s in finished if s.name == f"gateway.{stage}")
        assert server in _ancestors(span, by_id), (stage, [a.name for a in _ancestors(span, by_id)])
