"""The CPU engine: a Hugging Face causal LM with dynamic batching and real token streaming.

A hand-written decode loop (instead of ``generate()``) gives token-by-token streaming, stop
strings and an abort check before every step. Requests that arrive together are decoded in one
batch (:mod:`batcher`: a KV cache per sequence, merged left-padded), so concurrent users share
each forward pass instead of queueing; ``max_batch_size=1`` serves them one at a time.
Tokens reach the event loop through an ``asyncio.Queue`` per request.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from docentlib.errors import InvalidInput, Unavailable
from docentlib.model_store import ResolvedModel, resolve_llm
from services.generation.engines.base import (
    ChatMessage,
    EngineStats,
    Finish,
    SamplingParams,
    TokenDelta,
)
from services.generation.engines.batcher import Batcher
from services.generation.engines.constraint import ConstraintCompiler
from services.generation.engines.lora import attach_adapters, check_adapter
from services.generation.engines.sequence import Item, SequenceState
from services.generation.engines.validation import (
    check_fits,
    validate_messages,
    validate_params,
)
from services.generation.settings import GenerationSettings

log = logging.getLogger(__name__)


class TransformersEngine:
    """Streams chat completions from a local transformers model.

    Usage::

        engine = await TransformersEngine.load(GenerationSettings())
        async for item in engine.stream([ChatMessage("user", "Hi")], SamplingParams(32)):
            ...  # TokenDelta..., then one Finish
        await engine.close()
    """

    def __init__(
        self, model: Any, tokenizer: Any, resolved: ResolvedModel, settings: GenerationSettings
    ) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.settings = settings
        self.source = resolved
        self.model_id = resolved.model_id
        limit = getattr(model.config, "max_position_embeddings", None) or settings.max_model_len
        self.max_model_len = min(settings.max_model_len, int(limit))
        self._eos_ids = _eos_ids(model, tokenizer)
        self.adapters: tuple[str, ...] = tuple(getattr(model, "peft_config", {}) or ())
        base = model.get_base_model() if self.adapters else model
        forward = inspect.signature(base.forward).parameters
        # transformers 5 renamed the KV-cache argument; accept either spelling.
        cache_arg = "cache" if "cache" in forward else "past_key_values"
        self._batcher = Batcher(model, cache_arg, settings.max_batch_size, bool(self.adapters))
        vocab = int(getattr(model.config, "vocab_size", 0) or len(tokenizer))
        self._constraints = ConstraintCompiler(tokenizer, vocab)
        self._active: dict[str, SequenceState] = {}
        self._closed = False

    @property
    def running(self) -> int:
        """Requests being prefilled or decoded now."""
        return self._batcher.running

    @property
    def waiting(self) -> int:
        """Requests queued because the batch is full."""
        return self._batcher.waiting

    @classmethod
    def load_sync(cls, settings: GenerationSettings) -> TransformersEngine:
        """Resolve (converting a GGUF once), then load model and tokenizer; blocks."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        resolved = resolve_llm(settings)
        started = time.monotonic()
        try:
            tokenizer = AutoTokenizer.from_pretrained(resolved.path, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                resolved.path, dtype=getattr(torch, settings.dtype), local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise Unavailable(f"cannot load model from {resolved.path}: {exc}") from exc
        if not getattr(tokenizer, "chat_template", None):
            raise Unavailable(f"tokenizer in {resolved.path} has no chat template")
        model = attach_adapters(model, settings.lora_adapters)
        model.eval()
        log.info(
            "generation model loaded",
            extra={
                "model": resolved.model_id,
                "path": str(resolved.path),
                "converted": resolved.converted,
                "seconds": round(time.monotonic() - started, 2),
                "threads": torch.get_num_threads(),
                "adapters": sorted(settings.lora_adapters),
            },
        )
        return cls(model, tokenizer, resolved, settings)

    @classmethod
    async def load(cls, settings: GenerationSettings) -> TransformersEngine:
        """:meth:`load_sync` off the event loop (a first start converts for ~30 s)."""
        return await asyncio.to_thread(cls.load_sync, settings)

    # -- validation and counting ------------------------------------------------------------

    def count_tokens_sync(
        self, messages: Sequence[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Prompt tokens of ``messages`` (with the generation prompt) or of raw ``text``."""
        if (messages is None) == (text is None):
            raise InvalidInput("count_tokens takes exactly one of messages or text")
        if messages is not None:
            return len(self._prompt_ids(messages))
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    async def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """:meth:`count_tokens_sync` (tokenizing is fast and never touches the model)."""
        return self.count_tokens_sync(messages, text)

    def _prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        validate_messages(messages)
        conversation = [{"role": m.role, "content": m.content} for m in messages]
        try:
            ids = self._tokenizer.apply_chat_template(
                conversation, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        except Exception as exc:  # jinja raises on conversations a template forbids
            raise InvalidInput(f"messages rejected by the chat template: {exc}") from exc
        return [int(i) for i in ids]

    # -- generation -------------------------------------------------------------------------

    async def stream(
        self, messages: list[ChatMessage], params: SamplingParams, request_id: str | None = None
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Deltas as tokens are decoded, then one Finish; closing the iterator aborts."""
        if self._closed:
            raise Unavailable("generation engine is closed")
        validate_params(params, self.settings.max_tokens_limit)
        check_adapter(params, self.adapters)
        prompt_ids = self._prompt_ids(messages)
        check_fits(len(prompt_ids), params.max_tokens, self.max_model_len)
        request_id = request_id or uuid.uuid4().hex
        if request_id in self._active:
            raise InvalidInput(f"request id {request_id!r} is already in flight")
        constraint = None
        if params.structured is not None:  # compiling can take a while: off the event loop
            constraint = await asyncio.to_thread(self._constraints.compile, params.structured)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Item] = asyncio.Queue()

        def emit(item: Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody will read, so stop decoding
                seq.stop.set()

        seq = SequenceState(prompt_ids, params, emit, self._decode_ids, self._eos_ids)
        seq.constraint = constraint
        self._active[request_id] = seq
        try:
            self._batcher.submit(seq)
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Finish):
                    return
        except RuntimeError as exc:
            if self._closed:
                raise Unavailable("generation engine is closed") from exc
            raise
        finally:
            seq.stop.set()  # consumer gone, cancelled or done: the worker checks before each step
            self._active.pop(request_id, None)

    async def abort(self, request_id: str) -> bool:
        """Stop ``request_id`` before its next decode step."""
        seq = self._active.get(request_id)
        if seq is None:
            return False
        seq.stop.set()
        return True

    async def health(self) -> bool:
        """Serving until closed (the model is in this process)."""
        return not self._closed

    def stats(self) -> EngineStats:
        return EngineStats(running=self.running, waiting=self.waiting)

    def _decode_ids(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(
            list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    async def close(self) -> None:
        """Abort running work, wait for the worker thread, refuse new requests."""
        self._closed = True
        for seq in list(self._active.values()):
            seq.stop.set()
        await asyncio.to_thread(self._batcher.close)


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    """End-of-sequence ids from the tokenizer and the generation config together."""
    ids: set[int] = set()
    for source in (
        getattr(tokenizer, "eos_token_id", None),
        getattr(getattr(model, "generation_config", None), "eos_token_id", None),
    ):
        if isinstance(source, int):
            ids.add(source)
        elif isinstance(source, (list, tuple)):
            ids.update(int(i) for i in source)
    return frozenset(ids)
