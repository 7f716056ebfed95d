"""Constrained decoding in the transformers engine: JSON schemas and Lark grammars, per row."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from docentlib.agent.protocol import action_schema
from docentlib.errors import InvalidInput
from services.gateway.agent.tools.calculator import SPEC as CALCULATOR
from services.gateway.agent.tools.weather import SPEC as WEATHER
from services.generation.engines.base import ChatMessage, SamplingParams, Structured
from tests.generation.conftest import collect, text_of

QUESTION = [ChatMessage("user", "What is the weather in Paris? Answer with a tool call.")]
FREE = [ChatMessage("user", "Name three colours.")]
SCHEMA = action_schema([CALCULATOR, WEATHER])


def constrained(
    spec: dict | str, kind: str = "json_schema", max_tokens: int = 96
) -> SamplingParams:
    text = spec if isinstance(spec, str) else json.dumps(spec)
    return SamplingParams(max_tokens=max_tokens, structured=Structured(kind, text))


async def test_output_is_an_instance_of_the_schema(engine) -> None:
    deltas, finish = await collect(engine, QUESTION, constrained(SCHEMA))
    text = text_of(deltas)
    value = json.loads(text)
    jsonschema.validate(value, SCHEMA)
    assert finish.reason == "stop", "the grammar completed: decoding ends, not max_tokens"
    assert ", " in text and ": " in text, "separators as the schema's x-guidance asks"


async def test_a_lark_grammar(engine) -> None:
    grammar = 'start: "The answer is " NUMBER "."\nNUMBER: /[0-9]{1,3}/'
    deltas, finish = await collect(
        engine, [ChatMessage("user", "2+2?")], constrained(grammar, "grammar", 16)
    )
    text = text_of(deltas)
    assert text.startswith("The answer is ") and text.endswith(".")
    assert text[len("The answer is ") : -1].isdigit()
    assert finish.reason == "stop"


async def test_unconstrained_rows_in_the_same_batch_are_unaffected(engine) -> None:
    """Free rows decode exactly as alone while constrained rows share their batch."""
    free = SamplingParams(max_tokens=24)
    alone_free = text_of((await collect(engine, FREE, free))[0])
    alone_constrained = text_of((await collect(engine, QUESTION, constrained(SCHEMA)))[0])
    tasks = [
        asyncio.create_task(collect(engine, FREE, free)),
        asyncio.create_task(collect(engine, QUESTION, constrained(SCHEMA))),
        asyncio.create_task(collect(engine, FREE, free)),
    ]
    peak = 0
    while not all(t.done() for t in tasks):
        peak = max(peak, engine.running)
        await asyncio.sleep(0.005)
    texts = [text_of((await t)[0]) for t in tasks]
    assert peak >= 2, "the rows shared a batch"
    assert texts == [alone_free, alone_constrained, alone_free]
    assert alone_free != alone_constrained


@pytest.mark.parametrize(
    ("structured", "message"),
    [
        (Structured("json_schema", "{not json"), "not valid JSON"),
        (Structured("json_schema", "[1, 2]"), "must be a JSON object"),
        (Structured("json_schema", '{"type": "nope"}'), "rejected"),
        (Structured("json_schema", "  "), "empty"),
    ],
)
async def test_bad_specs_are_refused_before_generating(engine, structured, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        await collect(engine, QUESTION, SamplingParams(max_tokens=8, structured=structured))
    assert engine.running == 0


def test_remote_engines_get_the_schema_without_llguidance_options() -> None:
    from services.generation.engines.openai_engine import response_format
    from services.generation.engines.validation import check_json_schema_only

    body = response_format(json.dumps(SCHEMA))
    assert body["type"] == "json_schema"
    assert "x-guidance" not in body["json_schema"]["schema"]
    assert body["json_schema"]["schema"]["anyOf"] == SCHEMA["anyOf"]
    with pytest.raises(InvalidInput, match="not supported by the openai engine"):
        check_json_schema_only(Structured("grammar", 'start: "a"'), "openai")
