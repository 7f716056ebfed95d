"""The one server interceptor every service shares.

It restores the request id from metadata, times each RPC into the service's latency histogram,
counts errors and the attempts that are clients' retries, and maps domain exceptions to gRPC
status codes (anything unexpected becomes INTERNAL with the exception logged, never a bare
traceback to the caller).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from docentlib.errors import DocentError
from services.runtime.context import REQUEST_ID_HEADER, new_request_id, set_request_id
from services.runtime.metrics import RpcMetrics

log = logging.getLogger(__name__)
# gRPC's retry policy sends it on every attempt after the first (gRFC A6).
PREVIOUS_ATTEMPTS_HEADER = "grpc-previous-rpc-attempts"
# Trailing metadata naming a domain error's stable code, for errors that share a status code
# (an unsupported document and an empty one are both INVALID_ARGUMENT).
ERROR_CODE_HEADER = "docent-error-code"


def _status_name(context: grpc.aio.ServicerContext, default: str) -> str:
    try:
        code = context.code()
    except Exception:  # older grpc versions lack code() on aio contexts
        return default
    if isinstance(code, grpc.StatusCode):
        return code.name
    return default


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Request id, metrics and error mapping around every unary, server-streaming and
    client-streaming RPC."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self.metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith("/grpc."):
            return handler  # health and reflection are not ours to time
        method = details.method.rsplit("/", 1)[-1]
        metadata = {k: v for k, v in (details.invocation_metadata or ())}
        request_id = str(metadata.get(REQUEST_ID_HEADER) or new_request_id())
        if metadata.get(PREVIOUS_ATTEMPTS_HEADER):
            self.metrics.retries.labels(method).inc()
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, request_id),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method, request_id),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, request_id),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap_unary(self, inner: Callable[..., Any], method: str, request_id: str) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            set_request_id(request_id)
            start, code = time.perf_counter(), "OK"
            try:
                return await inner(request, context)
            except BaseException as exc:
                code = _code_for(exc, context)
                await _abort_for(exc, context, method)
                raise
            finally:
                self.metrics.observe(method, code, time.perf_counter() - start)

        return call

    def _wrap_stream(self, inner: Callable[..., Any], method: str, request_id: str) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            set_request_id(request_id)
            start, code = time.perf_counter(), "OK"
            try:
                async for item in inner(request, context):
                    yield item
            except BaseException as exc:
                code = _code_for(exc, context)
                await _abort_for(exc, context, method)
                raise
            finally:
                self.metrics.observe(method, code, time.perf_counter() - start)

        return call


def _code_for(exc: BaseException, context: grpc.aio.ServicerContext) -> str:
    """The status code name an RPC that raised ``exc`` ends with."""
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "CANCELLED"
    if isinstance(exc, grpc.aio.AbortError):
        return _status_name(context, "UNKNOWN")
    if isinstance(exc, DocentError):
        return exc.grpc_status.name
    return "INTERNAL"


async def _abort_for(exc: BaseException, context: grpc.aio.ServicerContext, method: str) -> None:
    """Abort the RPC with the status ``exc`` maps to (abort raises); cancellations pass through."""
    if isinstance(exc, asyncio.CancelledError | GeneratorExit | grpc.aio.AbortError):
        return
    if isinstance(exc, DocentError):
        log.info("rpc failed", extra={"method": method, "error": exc.code, "detail": exc.message})
        await context.abort(exc.grpc_status, exc.message, ((ERROR_CODE_HEADER, exc.code),))
    log.error("unexpected error in %s", method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}")
