"""Thin gRPC servicer: proto <-> engine types, plus the generation metrics."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import grpc

from docent.v1 import generation_pb2, generation_pb2_grpc
from docentlib.errors import InvalidInput, Unavailable
from services.generation import metrics
from services.generation.core import build_engine
from services.generation.engines.base import (
    ChatMessage,
    Engine,
    Finish,
    SamplingParams,
    Structured,
    TokenDelta,
)
from services.generation.settings import GenerationSettings

_FINISH = {
    "stop": generation_pb2.FINISH_REASON_STOP,
    "length": generation_pb2.FINISH_REASON_LENGTH,
    "abort": generation_pb2.FINISH_REASON_ABORT,
}


def _messages(request_messages) -> list[ChatMessage]:
    messages = [ChatMessage(role=m.role, content=m.content) for m in request_messages]
    if not messages:
        raise InvalidInput("messages must contain at least one message")
    return messages


def _structured(message: generation_pb2.StructuredOutput | None) -> Structured | None:
    """The request's constraint; a set but empty message is refused rather than ignored."""
    if message is None:
        return None
    kind = message.WhichOneof("format")
    if kind is None:
        raise InvalidInput("structured is set but names neither json_schema nor grammar")
    return Structured(kind, getattr(message, kind))


class GenerationServicer(generation_pb2_grpc.GenerationServicer):
    service_names = (generation_pb2.DESCRIPTOR.services_by_name["Generation"].full_name,)

    def __init__(self, settings: GenerationSettings) -> None:
        self.settings = settings
        self.engine: Engine | None = None
        # Read at scrape time: an aborted sequence leaves the engine a step after its RPC ends,
        # so a value set when the RPC finishes would stay stale until the next request.
        metrics.RUNNING.set_function(lambda: self._queue()[0])
        metrics.WAITING.set_function(lambda: self._queue()[1])

    def _queue(self) -> tuple[int, int]:
        if self.engine is None:
            return 0, 0
        stats = self.engine.stats()
        return stats.running, stats.waiting

    def register(self, server: grpc.aio.Server) -> None:
        generation_pb2_grpc.add_GenerationServicer_to_server(self, server)

    async def load(self) -> bool:
        self.engine = await build_engine(self.settings)
        return True

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()
            self.engine = None

    def _engine(self) -> Engine:
        if self.engine is None:
            raise Unavailable("the language model is still loading")
        return self.engine

    def _params(
        self,
        sampling: generation_pb2.SamplingParams,
        adapter: str = "",
        structured: generation_pb2.StructuredOutput | None = None,
    ) -> SamplingParams:
        return SamplingParams(
            max_tokens=sampling.max_tokens or self.settings.default_max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p or 1.0,
            stop=tuple(sampling.stop),
            seed=sampling.seed if sampling.HasField("seed") else None,
            adapter=adapter or None,
            repetition_penalty=(
                sampling.repetition_penalty
                if sampling.HasField("repetition_penalty")
                else self.settings.decoding().repetition_penalty
            ),
            no_repeat_ngram_size=(
                sampling.no_repeat_ngram_size
                if sampling.HasField("no_repeat_ngram_size")
                else self.settings.decoding().no_repeat_ngram_size
            ),
            structured=_structured(structured),
        )

    async def Generate(
        self, request: generation_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[generation_pb2.GenerateResponse, None]:
        engine = self._engine()
        structured = request.structured if request.HasField("structured") else None
        params = self._params(request.sampling, request.adapter, structured)
        stream = engine.stream(_messages(request.messages), params)
        start = last = time.perf_counter()
        first = True
        try:
            async for item in stream:
                now = time.perf_counter()
                if isinstance(item, TokenDelta):
                    if first:
                        metrics.TIME_TO_FIRST_TOKEN.observe(now - start)
                        first = False
                    else:
                        metrics.INTER_TOKEN_LATENCY.observe(now - last)
                    last = now
                    yield generation_pb2.GenerateResponse(
                        text=item.text, token_ids=list(item.token_ids)
                    )
                elif isinstance(item, Finish):
                    metrics.E2E_LATENCY.observe(now - start)
                    metrics.GENERATED_TOKENS.inc(item.completion_tokens)
                    metrics.PROMPT_TOKENS.inc(item.prompt_tokens)
                    yield generation_pb2.GenerateResponse(
                        finish_reason=_FINISH[item.reason],
                        usage=generation_pb2.Usage(
                            prompt_tokens=item.prompt_tokens,
                            completion_tokens=item.completion_tokens,
                        ),
                    )
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # a cancelled RPC stops the decode loop within one token

    async def CountTokens(
        self, request: generation_pb2.CountTokensRequest, context: grpc.aio.ServicerContext
    ) -> generation_pb2.CountTokensResponse:
        engine = self._engine()
        if request.messages:
            count = await engine.count_tokens(messages=_messages(request.messages))
        elif request.text:
            count = await engine.count_tokens(text=request.text)
        else:
            raise InvalidInput("give messages or text to count")
        return generation_pb2.CountTokensResponse(count=count, max_model_len=engine.max_model_len)
