"""OpenTelemetry set-up, off unless an OTLP endpoint is configured.

With an endpoint, spans are exported over OTLP/gRPC and the gRPC client and server are
instrumented so that trace context crosses every hop in the request's metadata.
"""

from __future__ import annotations

import logging

from opentelemetry import trace

log = logging.getLogger(__name__)
_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> bool:
    """Install a tracer provider exporting to ``otlp_endpoint``; return whether tracing is on."""
    global _configured
    if not otlp_endpoint or _configured:
        return _configured
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"docent-{service}"}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True))
    )
    trace.set_tracer_provider(provider)
    GrpcAioInstrumentorServer().instrument()
    GrpcAioInstrumentorClient().instrument()
    _configured = True
    log.info("tracing on", extra={"otlp_endpoint": otlp_endpoint})
    return True


def tracer(name: str) -> trace.Tracer:
    """A tracer; a no-op one while tracing is off."""
    return trace.get_tracer(name)
