"""A remote engine: any OpenAI-compatible server (a vLLM server, a hosted API), streamed.

Generation is ``POST /chat/completions`` with ``stream: true``; closing the stream closes the
HTTP response, which a vLLM server treats as an abort. Token counts come from the server's
``/tokenize`` (vLLM serves it next to ``/v1``), or from a local tokenizer when
``tokenizer`` is set (hosted APIs have no such endpoint), so the gateway's budget stays exact.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from docentlib.errors import InvalidInput, Unavailable
from services.generation.engines.base import (
    ChatMessage,
    EngineStats,
    Finish,
    SamplingParams,
    TokenDelta,
)
from services.generation.engines.validation import (
    check_fits,
    check_json_schema_only,
    check_no_adapter,
    check_no_ngram_ban,
    remote_schema,
    validate_messages,
    validate_params,
)
from services.generation.settings import GenerationSettings

log = logging.getLogger(__name__)


class OpenAIEngine:
    """Usage::

    engine = await OpenAIEngine.load(GenerationSettings(engine="openai",
                                     openai_base_url="http://127.0.0.1:8000/v1"))
    async for item in engine.stream([ChatMessage("user", "Hi")], SamplingParams(32)): ...
    """

    def __init__(
        self, client: httpx.AsyncClient, settings: GenerationSettings, model_id: str, window: int
    ) -> None:
        self._client = client
        self.settings = settings
        self.model_id = model_id
        self.max_model_len = window
        self._tokenizer: Any = None
        self._inflight: dict[str, httpx.Response | None] = {}
        self._closed = False

    @classmethod
    async def load(cls, settings: GenerationSettings) -> OpenAIEngine:
        """Connect, pick the model (settings or the server's first) and its context window."""
        headers = {}
        if settings.openai_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
        client = httpx.AsyncClient(
            base_url=settings.openai_base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(settings.openai_timeout_s),
        )
        try:
            reply = await client.get("/models")
            reply.raise_for_status()
            models = reply.json().get("data", [])
        except (httpx.HTTPError, ValueError) as exc:
            await client.aclose()
            raise Unavailable(f"OpenAI server at {settings.openai_base_url}: {exc}") from exc
        chosen = next((m for m in models if m.get("id") == settings.openai_model), None)
        if chosen is None and settings.openai_model is None and models:
            chosen = models[0]
        if chosen is None:
            await client.aclose()
            names = [m.get("id") for m in models]
            raise Unavailable(f"model {settings.openai_model!r} not served; the server has {names}")
        window = min(
            int(chosen.get("max_model_len") or settings.max_model_len), settings.max_model_len
        )
        engine = cls(client, settings, str(chosen["id"]), window)
        if settings.tokenizer:
            from transformers import AutoTokenizer

            engine._tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer)
        return engine

    async def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Exact prompt tokens, from a local tokenizer or the server's ``/tokenize``."""
        if (messages is None) == (text is None):
            raise InvalidInput("count_tokens takes exactly one of messages or text")
        if messages is not None:
            validate_messages(messages)
        if self._tokenizer is not None:
            if messages is None:
                return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
            chat = [{"role": m.role, "content": m.content} for m in messages]
            ids = self._tokenizer.apply_chat_template(
                chat, add_generation_prompt=True, tokenize=True, return_dict=False
            )
            return len(ids)
        body: dict[str, Any] = {"model": self.model_id}
        if messages is not None:
            body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
            body["add_generation_prompt"] = True
        else:
            body["prompt"] = text
            body["add_special_tokens"] = False
        url = self._root() + "/tokenize"
        try:
            reply = await self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"OpenAI server tokenize failed: {exc}") from exc
        if reply.status_code == 404:
            raise Unavailable("the server has no /tokenize; set tokenizer to count locally")
        _raise_for(reply)
        return int(reply.json()["count"])

    async def stream(
        self, messages: list[ChatMessage], params: SamplingParams, request_id: str | None = None
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Deltas as the server sends them, then one Finish with the server's usage."""
        if self._closed:
            raise Unavailable("generation engine is closed")
        validate_params(params, self.settings.max_tokens_limit)
        check_no_adapter(params, "openai")
        check_no_ngram_ban(params, "openai")
        check_json_schema_only(params.structured, "openai")
        prompt_tokens = await self.count_tokens(messages)
        check_fits(prompt_tokens, params.max_tokens, self.max_model_len)
        request_id = request_id or uuid.uuid4().hex
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty  # vLLM's extra parameter
        if params.structured is not None:
            body["response_format"] = response_format(params.structured.spec)
        self._inflight[request_id] = None
        reason: str | None = None
        completion = 0
        try:
            async with self._client.stream(
                "POST", "/chat/completions", json=body, headers={"X-Request-Id": request_id}
            ) as reply:
                if reply.status_code >= 400:
                    await reply.aread()
                    _raise_for(reply)
                self._inflight[request_id] = reply
                async for chunk in _events(reply):
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            yield TokenDelta(text, ())
                        reason = choice.get("finish_reason") or reason
                    if usage := chunk.get("usage"):
                        prompt_tokens = int(usage.get("prompt_tokens", prompt_tokens))
                        completion = int(usage.get("completion_tokens", completion))
        except httpx.HTTPError as exc:
            raise Unavailable(f"OpenAI server stream failed: {exc}") from exc
        finally:
            self._inflight.pop(request_id, None)
        final = "length" if reason == "length" else "stop" if reason else "abort"
        yield Finish(final, prompt_tokens, completion)  # type: ignore[arg-type]

    async def abort(self, request_id: str) -> bool:
        """Close the request's HTTP response (the server aborts on disconnect)."""
        if request_id not in self._inflight:
            return False
        reply = self._inflight[request_id]
        if reply is not None:
            await reply.aclose()
        return True

    async def health(self) -> bool:
        url = self._root() + "/health"
        try:
            reply = await self._client.get(url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200

    def stats(self) -> EngineStats:
        return EngineStats(running=len(self._inflight), waiting=0)

    def _root(self) -> str:
        """The server root: vLLM serves /tokenize and /health beside /v1, not under it."""
        return str(self._client.base_url).rstrip("/").removesuffix("/v1")

    @property
    def running(self) -> int:
        return len(self._inflight)

    async def close(self) -> None:
        self._closed = True
        for request_id in list(self._inflight):
            await self.abort(request_id)
        await self._client.aclose()


async def _events(reply: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON payloads of an SSE stream, up to ``[DONE]``."""
    async for line in reply.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError as exc:
            raise Unavailable(f"OpenAI server sent a malformed event: {data[:80]!r}") from exc


def _raise_for(reply: httpx.Response) -> None:
    """Client errors become InvalidInput with the server's message, the rest Unavailable."""
    if reply.status_code < 400:
        return
    try:
        body = reply.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    message = message or (body.get("message") if isinstance(body, dict) else None) or reply.text
    if 400 <= reply.status_code < 500:
        raise InvalidInput(f"OpenAI server refused the request: {message}")
    raise Unavailable(f"OpenAI server error {reply.status_code}: {message}")


def response_format(spec: str) -> dict[str, Any]:
    """OpenAI's structured outputs for a JSON schema (vLLM's server honours the same field).

    ``strict`` stays off: OpenAI's strict mode refuses a top-level ``anyOf``, which is how an
    action schema offers its choices; vLLM constrains decoding to the schema either way.
    """
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "structured_output",
            "schema": remote_schema(spec),
            "strict": False,
        },
    }
