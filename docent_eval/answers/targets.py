"""The systems an evaluation asks: Docent's gateway (streamed) and any OpenAI-compatible server.

Both stream, so time to first token is what a user waits for the first word (after the
gateway's groundedness guard has released a sentence), and end to end is the whole answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

_DECLINE = re.compile(
    r"\b(i can(?:no|')t (?:help|assist|answer|provide)|i(?: a|')m (?:sorry|unable|not able)|"
    r"i (?:won't|will not|must decline)|outside (?:of )?(?:my|the) (?:scope|domain)|"
    r"i don't know|i do not know)\b",
    re.IGNORECASE,
)


def declines(text: str) -> bool:
    """A reply that declines or says it does not know (for systems without refusal metadata)."""
    return bool(_DECLINE.search(text[:300]))


@dataclass
class Reply:
    """One answer with what is needed to score it."""

    text: str = ""
    passages: list[str] = field(default_factory=list)  # what the model was given, numbered
    citation_mode: str = "none"  # model, attributed, extractive or none (gateway metadata)
    refused: bool = False
    ttft_s: float | None = None
    e2e_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) pairs of a server-sent event stream."""
    name, data = "message", []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield name, "\n".join(data)


class DocentTarget:
    """``POST /v1/chat`` streamed, whole passages returned (``full_sources``)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retrieval: bool = True,
        max_tokens: int | None = None,
        adapter: str | None = None,
    ) -> None:
        self.client, self.retrieval, self.max_tokens = client, retrieval, max_tokens
        self.adapter = adapter  # None: the gateway's own setting; "": the base model
        self.name = "docent" if retrieval else "no-retrieval"

    async def ask(self, question: str) -> Reply:
        body: dict = {"message": question, "stream": True, "full_sources": True}
        if not self.retrieval:
            body["retrieval"] = False
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        if self.adapter is not None:
            body["adapter"] = self.adapter
        reply, parts, start = Reply(), [], time.perf_counter()
        async with self.client.stream("POST", "/v1/chat", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                reply.error = f"HTTP {response.status_code}: {response.text[:300]}"
                return reply
            async for name, data in sse_events(response):
                payload = json.loads(data)
                if name == "sources":
                    reply.passages = [s["text"] for s in payload["sources"]]
                elif name == "delta" and payload.get("text"):
                    reply.ttft_s = reply.ttft_s or time.perf_counter() - start
                    parts.append(payload["text"])
                elif name == "moderation":  # the answer so far is replaced by a refusal
                    parts = [payload.get("text", "")]
                elif name == "done":
                    meta = payload["metadata"]
                    reply.refused = bool(meta.get("refused"))
                    reply.citation_mode = meta.get("citation_mode", "none")
                    reply.prompt_tokens = payload["usage"]["prompt_tokens"]
                    reply.completion_tokens = payload["usage"]["completion_tokens"]
                elif name == "error":
                    reply.error = payload.get("error", {}).get("message", data)
        reply.e2e_s = time.perf_counter() - start
        reply.text = "".join(parts)
        return reply


class OpenAITarget:
    """``POST {url}/v1/chat/completions`` streamed: the question alone, as a user would ask."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        model: str,
        *,
        system: str | None = None,
        max_tokens: int | None = None,
        name: str = "reference",
    ) -> None:
        self.client, self.model, self.system = client, model, system
        self.max_tokens, self.name = max_tokens, name

    async def ask(self, question: str) -> Reply:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": question})
        body: dict = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": 0,
            "stream_options": {"include_usage": True},
        }
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        reply, parts, start = Reply(), [], time.perf_counter()
        async with self.client.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                reply.error = f"HTTP {response.status_code}: {response.text[:300]}"
                return reply
            async for _, data in sse_events(response):
                if data.strip() == "[DONE]":
                    break
                chunk = json.loads(data)
                if usage := chunk.get("usage"):
                    reply.prompt_tokens = usage.get("prompt_tokens")
                    reply.completion_tokens = usage.get("completion_tokens")
                for choice in chunk.get("choices") or []:
                    if text := (choice.get("delta") or {}).get("content"):
                        reply.ttft_s = reply.ttft_s or time.perf_counter() - start
                        parts.append(text)
        reply.e2e_s = time.perf_counter() - start
        reply.text = "".join(parts)
        reply.refused = declines(reply.text)
        return reply


async def first_model(client: httpx.AsyncClient) -> str:
    """The first model ``GET /v1/models`` lists (what to ask when no model is named)."""
    response = await client.get("/v1/models")
    response.raise_for_status()
    models = response.json().get("data") or []
    if not models:
        raise ValueError(f"{client.base_url}/v1/models lists no model")
    return str(models[0]["id"])
