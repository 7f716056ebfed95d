"""The OpenAI-compatible API against the real stack: the official client, unchanged, and a
client that hangs up mid-answer stopping the real generation engine.

The client test runs a second gateway process (``python -m services.gateway``) on the stack's
services with a key store of its own, so it can use a real API key without turning
authentication on for the rest of the session's tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from services.gateway.access.keys import open_key_store
from services.gateway.settings import GatewaySettings
from tests.e2e.conftest import Stack, gateway_process
from tests.e2e.test_chat_end_to_end import DEPLOYMENT_PAGE, QUESTION, corpus, ingested

pytestmark = pytest.mark.e2e
__all__ = ["corpus", "ingested"]  # fixtures reused from the chat end-to-end test


@pytest.fixture(scope="module")
def keyed_gateway(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(base URL, chat key) of a gateway process with its own key store on the real stack."""
    data_dir = tmp_path_factory.mktemp("keyed-gateway")
    store = open_key_store(GatewaySettings(data_dir=data_dir))
    _, token = store.create("openai-e2e", ["chat"])
    store.close()
    with gateway_process(stack, data_dir) as url:
        yield url, token


def test_official_client_gets_cited_answers_from_the_real_models(
    keyed_gateway: tuple[str, str], ingested: dict
) -> None:
    url, token = keyed_gateway
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=token, timeout=300, max_retries=0)
    assert [m.id for m in client.models.list()] == ["docent"]

    completion = client.chat.completions.create(
        model="docent", messages=[{"role": "user", "content": QUESTION}], max_tokens=64
    )
    answer = completion.choices[0].message.content or ""
    assert answer.strip() and completion.choices[0].finish_reason in ("stop", "length")
    assert re.search(r"\[\d+\]", answer), answer
    sources = (completion.model_extra or {})["sources"]
    assert any(s["source_path"].endswith(DEPLOYMENT_PAGE) for s in sources)
    assert completion.usage is not None and completion.usage.completion_tokens > 0

    stream = client.chat.completions.create(
        model="docent",
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=64,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # The groundedness guard releases whole sentences: one content chunk per released sentence
    # (a 64-token answer may be a single sentence), after a role chunk and before the finish.
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces and chunks[0].choices[0].delta.role == "assistant", chunks[0]
    assert len(chunks) >= len(pieces) + 2
    assert re.search(r"\[\d+\]", text), text
    (finish,) = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert any(
        s["source_path"].endswith(DEPLOYMENT_PAGE) for s in (finish.model_extra or {})["sources"]
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 5

    with pytest.raises(openai.BadRequestError) as too_long:
        client.chat.completions.create(
            model="docent",
            # ~3900 characters (under max_message_chars), ~3500 tokens: digits split apart
            messages=[{"role": "user", "content": " ".join(str(1000 + i) for i in range(780))}],
            max_tokens=256,
        )
    assert too_long.value.code == "context_length_exceeded"
    anonymous = httpx.get(f"{url}/v1/models", timeout=10)
    assert anonymous.status_code == 401


def _cpu_seconds(stack: Stack) -> float:
    """CPU seconds the generation process has used (prometheus_client's process collector)."""
    text = httpx.get(stack.metrics_url("generation"), timeout=10).text
    match = re.search(r"^process_cpu_seconds_total (\S+)$", text, re.M)
    assert match, "the generation service exports process_cpu_seconds_total"
    return float(match.group(1))


def _cpu_rate(stack: Stack, seconds: float) -> float:
    """CPU seconds per second the generation process uses over the next ``seconds``."""
    before, start = _cpu_seconds(stack), time.monotonic()
    time.sleep(seconds)
    return (_cpu_seconds(stack) - before) / (time.monotonic() - start)


def test_hanging_up_mid_stream_stops_the_real_engine(stack: Stack, ingested: dict) -> None:
    """The engine's CPU use while a long answer streams, then after the client hangs up.

    (The running gauge is a snapshot taken as the stream closes, before the engine's worker
    thread drops the aborted row, so the process's own CPU time is the reliable witness.)
    """
    body = {
        "model": "docent",
        "messages": [{"role": "user", "content": "Explain Deployments in great detail."}],
        "max_tokens": 1024,
        "stream": True,
    }
    content_chunks = 0
    with (
        httpx.Client(timeout=300) as client,
        client.stream("POST", f"{stack.url}/v1/chat/completions", json=body) as reply,
    ):
        assert reply.status_code == 200
        for line in reply.iter_lines():
            content_chunks += '"content":"' in line and '"content":""' not in line
            # The groundedness guard releases whole sentences (and ends a looping answer), so
            # the first sentence is the moment the engine is surely still decoding.
            if content_chunks >= 1:
                break
        busy = _cpu_rate(stack, 2.0)  # still connected: decoding up to 1024 tokens
    time.sleep(1.0)  # the step in progress when the client left may finish
    idle = _cpu_rate(stack, 2.0)
    print(f"generation CPU: {busy:.2f} s/s while streaming, {idle:.2f} s/s after hang-up")
    # Absolute rates depend on how busy the machine is; the drop is what shows the stop.
    assert busy > 0.02, "the engine was decoding while the client listened"
    assert idle < busy / 4, (busy, idle)
