"""Incremental detokenisation and stop strings, with the real tokenizer."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from services.generation.engines.detokenize import REPLACEMENT, IncrementalDecoder, StopFilter
from services.generation.engines.transformers_engine import TransformersEngine


@pytest.mark.parametrize(
    "text", ["Hello world, how are you?", "café naïve 日本語 🙂🚀 done", "  two  spaces\n\nend"]
)
def test_pieces_rebuild_the_text(engine: TransformersEngine, text: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(engine.source.path)
    ids = tokenizer(text, add_special_tokens=False).input_ids
    decoder = IncrementalDecoder(lambda xs: tokenizer.decode(list(xs), skip_special_tokens=True))
    pieces = [decoder.push(i) for i in ids]
    pieces.append(decoder.flush())
    assert "".join(pieces) == tokenizer.decode(ids)
    assert not any(REPLACEMENT in p for p in pieces)


def test_stop_filter_holds_back_a_possible_start() -> None:
    stops = StopFilter(["STOP"])
    assert stops.feed("abc ST") == ("abc ", False)
    assert stops.feed("O") == ("", False)
    assert stops.feed("Px") == ("", True)


def test_stop_filter_releases_a_false_alarm_and_picks_the_earliest() -> None:
    stops = StopFilter(["STOP", "\n\n"])
    assert stops.feed("a ST") == ("a ", False)
    assert stops.feed("AR") == ("STAR", False)
    assert stops.feed("b\n\nc STOP") == ("b", True)
    tail = StopFilter(["xyz"])
    assert tail.feed("ax") == ("a", False)
    assert tail.flush() == "x"


def test_without_stops_text_passes_through() -> None:
    assert StopFilter([]).feed("anything") == ("anything", False)
