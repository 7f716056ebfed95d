"""The CPU engine: a Hugging Face causal LM driven by a hand-written KV-cache decode loop.

The loop (instead of ``generate()``) gives real token-by-token streaming, stop strings and a
cancellation check before every forward pass, so a client that disconnects frees the CPU
within one token. Decoding runs in one worker thread; tokens reach the event loop through an
``asyncio.Queue``. One generation runs at a time (batching comes later).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from services.generation.engines.base import (
    ChatMessage,
    Finish,
    FinishReason,
    SamplingParams,
    TokenDelta,
)
from services.generation.engines.detokenize import IncrementalDecoder, StopFilter
from services.generation.model_store import ResolvedModel, resolve_model
from services.generation.settings import GenerationSettings
from services.runtime.errors import InvalidInput, Unavailable

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
MAX_STOPS = 16
SEED_RANGE = (-(2**63), 2**64 - 1)  # what torch.Generator.manual_seed accepts

Item = TokenDelta | Finish | BaseException


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
        self.running = 0  # generations on the CPU now (0 or 1), for metrics
        self.waiting = 0  # generations queued behind the lock, for metrics
        self._eos_ids = _eos_ids(model, tokenizer)
        forward = inspect.signature(model.forward).parameters
        # transformers 5 renamed the KV-cache argument; accept either spelling.
        self._cache_arg = "cache" if "cache" in forward else "past_key_values"
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate")
        self._active: set[threading.Event] = set()
        self._closed = False

    @classmethod
    def load_sync(cls, settings: GenerationSettings) -> TransformersEngine:
        """Resolve (converting a GGUF once), then load model and tokenizer; blocks."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        resolved = resolve_model(settings)
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
        model.eval()
        log.info(
            "generation model loaded",
            extra={
                "model": resolved.model_id,
                "path": str(resolved.path),
                "converted": resolved.converted,
                "seconds": round(time.monotonic() - started, 2),
                "threads": torch.get_num_threads(),
            },
        )
        return cls(model, tokenizer, resolved, settings)

    @classmethod
    async def load(cls, settings: GenerationSettings) -> TransformersEngine:
        """:meth:`load_sync` off the event loop (a first start converts for ~30 s)."""
        return await asyncio.to_thread(cls.load_sync, settings)

    # -- validation and counting ------------------------------------------------------------

    def validate(self, params: SamplingParams) -> None:
        """Reject sampling parameters the loop cannot honour, naming the field."""
        limit = self.settings.max_tokens_limit
        if not 1 <= params.max_tokens <= limit:
            raise InvalidInput(f"max_tokens must be between 1 and {limit}, got {params.max_tokens}")
        if not 0.0 <= params.temperature <= 2.0:
            raise InvalidInput(f"temperature must be between 0 and 2, got {params.temperature}")
        if not 0.0 < params.top_p <= 1.0:
            raise InvalidInput(f"top_p must be in (0, 1], got {params.top_p}")
        if len(params.stop) > MAX_STOPS:
            raise InvalidInput(f"stop takes at most {MAX_STOPS} strings, got {len(params.stop)}")
        if any(not isinstance(s, str) or not s for s in params.stop):
            raise InvalidInput("stop strings must be non-empty")
        if params.seed is not None and not SEED_RANGE[0] <= params.seed <= SEED_RANGE[1]:
            raise InvalidInput(f"seed must fit in 64 bits, got {params.seed}")

    def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Prompt tokens of ``messages`` (with the generation prompt) or of raw ``text``."""
        if (messages is None) == (text is None):
            raise InvalidInput("count_tokens takes exactly one of messages or text")
        if messages is not None:
            return len(self._prompt_ids(messages))
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        if not messages:
            raise InvalidInput("messages must contain at least one message")
        for i, message in enumerate(messages):
            if message.role not in ROLES:
                raise InvalidInput(
                    f"messages[{i}].role must be one of {ROLES}, not {message.role!r}"
                )
            if not isinstance(message.content, str):
                raise InvalidInput(f"messages[{i}].content must be a string")
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
        self, messages: list[ChatMessage], params: SamplingParams
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Deltas as tokens are decoded, then one Finish; closing the iterator aborts."""
        if self._closed:
            raise Unavailable("generation engine is closed")
        self.validate(params)
        prompt_ids = self._prompt_ids(messages)
        if len(prompt_ids) + params.max_tokens > self.max_model_len:
            raise InvalidInput(
                f"prompt has {len(prompt_ids)} tokens and max_tokens is {params.max_tokens}; "
                f"together they exceed max_model_len {self.max_model_len}"
            )
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Item] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody will read, so stop decoding
                stop.set()

        await self._acquire()
        self._active.add(stop)
        try:
            if self._closed:
                raise Unavailable("generation engine is closed")
            future = loop.run_in_executor(self._executor, self._run, prompt_ids, params, stop, emit)
        except BaseException:
            self._release(stop)
            raise
        # The lock is released when the worker has really stopped, not when the consumer left.
        future.add_done_callback(lambda f: self._release(stop, f))
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Finish):
                    return
        finally:
            stop.set()  # consumer gone, cancelled or done: the worker checks before each token

    async def _acquire(self) -> None:
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        self.running += 1

    def _release(self, stop: threading.Event, future: Future[Any] | None = None) -> None:
        if future is not None and not future.cancelled():
            future.exception()  # mark retrieved; _run reports its errors through the queue
        self._active.discard(stop)
        self.running -= 1
        self._lock.release()

    def _run(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        stop: threading.Event,
        emit: Callable[[Item], None],
    ) -> None:
        """Worker-thread entry: every outcome, errors included, goes through ``emit``."""
        try:
            finish = self._decode(prompt_ids, params, stop, emit)
        except BaseException as exc:
            log.exception("generation failed")
            emit(exc)
            return
        emit(finish)

    def _decode(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        stop: threading.Event,
        emit: Callable[[Item], None],
    ) -> Finish:
        import torch
        from transformers import DynamicCache

        generator = None
        if params.temperature > 0:
            generator = torch.Generator()
            if params.seed is None:
                generator.seed()
            else:
                generator.manual_seed(params.seed)
        cache = DynamicCache(config=self._model.config)
        decoder = IncrementalDecoder(self._decode_ids)
        stops = StopFilter(params.stop)
        n_prompt, produced = len(prompt_ids), 0
        pending: list[int] = []  # ids whose text has not been emitted yet
        reason: FinishReason = "length"
        stopped = False
        inputs = torch.tensor([prompt_ids], dtype=torch.long)
        with torch.inference_mode():
            for _ in range(params.max_tokens):
                if stop.is_set():
                    return Finish("abort", n_prompt, produced)
                out = self._model(
                    input_ids=inputs, use_cache=True, logits_to_keep=1, **{self._cache_arg: cache}
                )
                token = _pick(out.logits[0, -1], params, generator)
                produced += 1
                if token in self._eos_ids:
                    reason = "stop"
                    break
                pending.append(token)
                text, stopped = stops.feed(decoder.push(token))
                if text:
                    emit(TokenDelta(text, tuple(pending)))
                    pending = []
                if stopped:
                    return Finish("stop", n_prompt, produced)
                inputs = torch.tensor([[token]], dtype=torch.long)
        text, stopped = stops.feed(decoder.flush())
        if not stopped:
            text += stops.flush()
        if text:
            emit(TokenDelta(text, tuple(pending)))
        return Finish("stop" if stopped else reason, n_prompt, produced)

    def _decode_ids(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(
            list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    async def close(self) -> None:
        """Abort running work, wait for the worker thread, refuse new requests."""
        self._closed = True
        for stop in list(self._active):
            stop.set()
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _pick(logits: Any, params: SamplingParams, generator: Any) -> int:
    """Greedy at temperature 0, else temperature + nucleus (top-p) sampling."""
    import torch

    if params.temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # keep the smallest head whose mass reaches top_p (the first token is always kept)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < params.top_p
        choice = torch.multinomial(sorted_probs * keep, 1, generator=generator)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=generator))


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
