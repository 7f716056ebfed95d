"""Repetition controls: the penalty and the n-gram ban, by hand and on the real model."""

from __future__ import annotations

import pytest
import torch

from docent.v1 import generation_pb2
from docentlib.errors import InvalidInput
from services.generation.engines.base import ChatMessage, SamplingParams
from services.generation.engines.sequence import without_repeats
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.engines.validation import check_no_ngram_ban, validate_params
from services.generation.servicer import GenerationServicer
from services.generation.settings import GenerationSettings
from tests.generation.conftest import collect


def test_penalty_divides_positive_and_multiplies_negative_logits_of_generated_tokens():
    logits = torch.tensor([2.0, -1.0, 3.0, 0.5])
    params = SamplingParams(max_tokens=4, repetition_penalty=2.0)
    out = without_repeats(logits, [0, 1, 1], params)
    assert out.tolist() == [1.0, -2.0, 3.0, 0.5]
    assert logits.tolist() == [2.0, -1.0, 3.0, 0.5]  # the model's output is left alone


def test_ngram_ban_forbids_only_the_token_that_would_repeat_an_ngram():
    logits = torch.zeros(6)
    params = SamplingParams(max_tokens=4, no_repeat_ngram_size=3)
    # 1 2 3 ... 1 2 -> "1 2 3" exists, so 3 is banned after "1 2"; 5 never followed "1 2".
    out = without_repeats(logits, [1, 2, 3, 4, 1, 2], params)
    assert out[3] == float("-inf") and torch.isfinite(out[[0, 1, 2, 4, 5]]).all()
    assert torch.equal(without_repeats(logits, [1, 2], params), logits)  # too short to repeat


def test_off_by_default_and_validated():
    logits = torch.ones(3)
    assert without_repeats(logits, [0, 1], SamplingParams(max_tokens=2)) is logits
    with pytest.raises(InvalidInput, match="repetition_penalty must be between 1 and 2"):
        validate_params(SamplingParams(max_tokens=2, repetition_penalty=0.5), 10)
    with pytest.raises(InvalidInput, match="no_repeat_ngram_size must be between 0 and 16"):
        validate_params(SamplingParams(max_tokens=2, no_repeat_ngram_size=40), 10)
    with pytest.raises(InvalidInput, match="vllm engine cannot ban n-grams"):
        check_no_ngram_ban(SamplingParams(max_tokens=2, no_repeat_ngram_size=3), "vllm")


def test_engine_defaults_apply_only_when_the_request_sets_nothing():
    servicer = GenerationServicer(GenerationSettings())
    unset = servicer._params(generation_pb2.SamplingParams(max_tokens=8))
    assert (unset.repetition_penalty, unset.no_repeat_ngram_size) == (1.15, 4)
    explicit = generation_pb2.SamplingParams(repetition_penalty=1.0, no_repeat_ngram_size=0)
    off = servicer._params(explicit)
    assert (off.repetition_penalty, off.no_repeat_ngram_size) == (1.0, 0)
    vllm = GenerationServicer(GenerationSettings(engine="vllm"))._params(explicit)
    assert vllm.no_repeat_ngram_size == 0
    assert GenerationSettings(engine="openai").decoding().repetition_penalty == 1.0


async def test_the_real_model_never_repeats_a_banned_ngram(engine: TransformersEngine):
    messages = [ChatMessage("user", "Say the word 'pod' fifty times, separated by spaces.")]
    looping, _ = await collect(engine, messages, SamplingParams(max_tokens=48))
    ids = [i for d in looping for i in d.token_ids]
    trigrams = [tuple(ids[i : i + 3]) for i in range(len(ids) - 2)]
    assert len(set(trigrams)) < len(trigrams), "without the ban the model repeats itself"
    banned, _ = await collect(
        engine, messages, SamplingParams(max_tokens=48, no_repeat_ngram_size=3)
    )
    ids = [i for d in banned for i in d.token_ids]
    trigrams = [tuple(ids[i : i + 3]) for i in range(len(ids) - 2)]
    assert len(set(trigrams)) == len(trigrams)
