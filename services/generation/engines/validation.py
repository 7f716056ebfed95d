"""Request checks every engine applies the same way, so errors read the same whatever the engine."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from docentlib.errors import InvalidInput
from services.generation.engines.base import ChatMessage, SamplingParams, Structured

ROLES = ("system", "user", "assistant")
MAX_STOPS = 16
MAX_NGRAM = 16
SEED_RANGE = (-(2**63), 2**64 - 1)  # what torch.Generator.manual_seed accepts


def validate_params(params: SamplingParams, max_tokens_limit: int) -> None:
    """Reject sampling parameters no engine can honour, naming the field."""
    if not 1 <= params.max_tokens <= max_tokens_limit:
        raise InvalidInput(
            f"max_tokens must be between 1 and {max_tokens_limit}, got {params.max_tokens}"
        )
    if math.isnan(params.temperature) or not 0.0 <= params.temperature <= 2.0:
        raise InvalidInput(f"temperature must be between 0 and 2, got {params.temperature}")
    if math.isnan(params.top_p) or not 0.0 < params.top_p <= 1.0:
        raise InvalidInput(f"top_p must be in (0, 1], got {params.top_p}")
    if len(params.stop) > MAX_STOPS:
        raise InvalidInput(f"stop takes at most {MAX_STOPS} strings, got {len(params.stop)}")
    if any(not isinstance(s, str) or not s for s in params.stop):
        raise InvalidInput("stop strings must be non-empty")
    if params.seed is not None and not SEED_RANGE[0] <= params.seed <= SEED_RANGE[1]:
        raise InvalidInput(f"seed must fit in 64 bits, got {params.seed}")
    if math.isnan(params.repetition_penalty) or not 1.0 <= params.repetition_penalty <= 2.0:
        raise InvalidInput(
            f"repetition_penalty must be between 1 and 2, got {params.repetition_penalty}"
        )
    if not 0 <= params.no_repeat_ngram_size <= MAX_NGRAM:
        raise InvalidInput(
            f"no_repeat_ngram_size must be between 0 and {MAX_NGRAM}, "
            f"got {params.no_repeat_ngram_size}"
        )


def validate_messages(messages: Sequence[ChatMessage]) -> None:
    """At least one message, known roles, string contents."""
    if not messages:
        raise InvalidInput("messages must contain at least one message")
    for i, message in enumerate(messages):
        if message.role not in ROLES:
            raise InvalidInput(f"messages[{i}].role must be one of {ROLES}, not {message.role!r}")
        if not isinstance(message.content, str):
            raise InvalidInput(f"messages[{i}].content must be a string")


def check_fits(prompt_tokens: int, max_tokens: int, max_model_len: int) -> None:
    """The same refusal in every engine when prompt + completion cannot fit the window."""
    if prompt_tokens + max_tokens > max_model_len:
        raise InvalidInput(
            f"prompt has {prompt_tokens} tokens and max_tokens is {max_tokens}; "
            f"together they exceed max_model_len {max_model_len}"
        )


def check_no_adapter(params: SamplingParams, engine: str) -> None:
    """Engines without LoRA support refuse an adapter rather than ignore it."""
    if params.adapter:
        raise InvalidInput(
            f"adapter {params.adapter!r} requested, but the {engine} engine serves none"
        )


def check_no_ngram_ban(params: SamplingParams, engine: str) -> None:
    """Engines that cannot ban repeated n-grams refuse the request rather than ignore it."""
    if params.no_repeat_ngram_size:
        raise InvalidInput(
            f"no_repeat_ngram_size {params.no_repeat_ngram_size} requested, but the {engine} "
            "engine cannot ban n-grams (use repetition_penalty)"
        )


def remote_schema(spec: str) -> dict[str, Any]:
    """A JSON schema for a remote engine (vLLM, OpenAI): parsed, checked, ``x-guidance`` dropped.

    ``x-guidance`` holds llguidance's whitespace options; other backends may refuse unknown
    keywords, and the output still parses as JSON without them.
    """
    try:
        schema = json.loads(spec)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"json_schema is not valid JSON: {exc.msg}") from None
    if not isinstance(schema, dict):
        raise InvalidInput("json_schema must be a JSON object")
    schema.pop("x-guidance", None)
    return schema


def check_json_schema_only(structured: Structured | None, engine: str) -> None:
    """Engines that take JSON schemas but no grammar refuse a grammar rather than ignore it."""
    if structured is not None and structured.kind != "json_schema":
        raise InvalidInput(
            f"structured output {structured.kind!r} is not supported by the {engine} engine; "
            "send a json_schema"
        )
