"""ReAct trajectories for the agent adapter, from the tool specs (``docent train agent-data``).

Each record is one whole run in chat format (system prompt, question, then an assistant action
and an ``Observation:`` per step, ending in the answer), rendered with exactly the functions
the gateway uses (:mod:`docentlib.agent.protocol`, the weather tool's ``describe``, the
Wikipedia tool's ``summarize``), so the adapter learns the bytes it will be served. Train it
with ``data.loss_on: assistant`` so every step of a run is learned, not only the answer.

The world here (countries, landmarks, mountains, documentation facts) is disjoint from the
evaluation set in ``tests/data/agent/questions.jsonl``: no question, place or fact of it
appears here (a test checks). About a quarter of the runs contain a tool error (a place the
geocoder does not know, an expression the calculator refuses, a timeout) and the recovery.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docent_training.agent_data.compare import (
    capitals_compare,
    compare_facts,
    compare_weather,
    weather_service_down,
)
from docent_training.agent_data.single import (
    capital_weather,
    docs_calc,
    landmark_calc,
    mountain_calc,
)
from docent_training.agent_data.world import World
from docentlib.agent.protocol import Step, messages_for, system_prompt
from services.gateway.agent.tools.calculator import SPEC as CALCULATOR
from services.gateway.agent.tools.search_docs import SPEC as SEARCH_DOCS
from services.gateway.agent.tools.weather import SPEC as WEATHER
from services.gateway.agent.tools.wikipedia import SPEC as WIKIPEDIA

SPECS = [CALCULATOR, SEARCH_DOCS, WIKIPEDIA, WEATHER]  # the gateway's default order


SCENARIOS: list[tuple[float, Callable[[random.Random, World], tuple[str, list[Step]]]]] = [
    (0.30, capital_weather),
    (0.14, landmark_calc),
    (0.12, mountain_calc),
    (0.14, compare_weather),
    (0.10, compare_facts),
    (0.12, docs_calc),
    (0.05, capitals_compare),
    (0.03, weather_service_down),
]


def trajectories(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` chat records ``{"messages": [...], "scenario": name}``, reproducible by ``seed``."""
    rng = random.Random(seed)
    world = World(rng)
    system = system_prompt(SPECS)
    weights = [w for w, _ in SCENARIOS]
    records = []
    for _ in range(n):
        (scenario,) = rng.choices([f for _, f in SCENARIOS], weights)
        question, steps = scenario(rng, world)
        messages = [{"role": r, "content": c} for r, c in messages_for(system, question, steps)]
        records.append({"messages": messages, "scenario": scenario.__name__})
    return records


def write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    tmp.replace(path)
