"""Scenarios with two lookups: two cities' weather, two facts, two capitals; and a weather
service that fails."""

from __future__ import annotations

import random

from docent_training.agent_data.single import calculate_step, call, temperature_of
from docent_training.agent_data.world import (
    CAPITALS,
    LANDMARKS,
    MOUNTAINS,
    WIKI_CHARS,
    World,
    title_of,
)
from docentlib.agent.protocol import FinalAnswer, Step
from services.gateway.agent.tools.calculator import evaluate, format_number
from services.gateway.agent.tools.wikipedia import summarize


def compare_weather(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    a, b = rng.sample(sorted(CAPITALS), 2)
    (ca, _), (cb, _) = CAPITALS[a], CAPITALS[b]
    wa, wb = world.weather(ca, title_of(a)), world.weather(cb, title_of(b))
    ta, tb = temperature_of(wa), temperature_of(wb)
    if ta == tb:
        return compare_weather(rng, world)
    kind = rng.choice(["warmer", "colder", "difference", "sum"])
    question = {
        "warmer": rng.choice(
            [
                f"Which is warmer right now, {ca} or {cb}?",
                f"Is it warmer in {ca} or in {cb} at the moment?",
            ]
        ),
        "colder": rng.choice(
            [
                f"Which city is colder right now: {ca} or {cb}?",
                f"Is it colder in {ca} or {cb} today?",
            ]
        ),
        "difference": rng.choice(
            [
                f"What is the temperature difference between {ca} and {cb}?",
                f"How many degrees apart are {ca} and {cb} right now?",
            ]
        ),
        "sum": f"What do the current temperatures in {ca} and {cb} add up to?",
    }[kind]
    steps = [
        Step(call(f"I need the temperature in {ca} first.", "weather", location=ca), wa),
        Step(call(f"{ca} is {ta} °C. Now {cb}.", "weather", location=cb), wb),
    ]
    fa, fb = float(ta), float(tb)
    if kind in ("warmer", "colder"):
        pick = (ca if fa > fb else cb) if kind == "warmer" else (ca if fa < fb else cb)
        answer = f"{pick} is {kind}: {ca} is {ta} °C and {cb} is {tb} °C."
        steps.append(Step(FinalAnswer(f"{ca} {ta} °C, {cb} {tb} °C.", answer)))
        return question, steps
    expression = f"{ta} - {tb}" if fa >= fb else f"{tb} - {ta}"
    if kind == "sum":
        expression = f"{ta} + {tb}"
    calculate_step(rng, steps, "Now I compute with both temperatures.", expression)
    value = format_number(evaluate(expression))
    label = "together" if kind == "sum" else "apart"
    answer = f"{value} °C {label}: {ca} is {ta} °C and {cb} is {tb} °C."
    steps.append(Step(FinalAnswer(f"The calculator gives {value}.", answer)))
    return question, steps


def compare_facts(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    if rng.random() < 0.5:
        a, b = rng.sample(sorted(MOUNTAINS), 2)
        (ha, ra), (hb, rb) = MOUNTAINS[a], MOUNTAINS[b]
        question = rng.choice(
            [f"Which is taller, {a} or {b}?", f"Which mountain is higher, {a} or {b}?"]
        )
        oa = summarize(
            a, f"{a} is a mountain in {ra}. Its summit is {ha:,} metres high.", WIKI_CHARS
        )
        ob = summarize(
            b, f"{b} is a mountain in {rb}. Its summit is {hb:,} metres high.", WIKI_CHARS
        )
        steps = [
            Step(call(f"I need the height of {a}.", "wikipedia", query=a), oa),
            Step(call(f"{a} is {ha} metres. Now {b}.", "wikipedia", query=b), ob),
        ]
        top = a if ha > hb else b
        steps.append(
            Step(
                FinalAnswer(
                    f"{a} {ha} m, {b} {hb} m.",
                    f"{top} is taller: {a} is {ha:,} m and {b} is {hb:,} m.",
                )
            )
        )
        return question, steps
    a, b = rng.sample(sorted(LANDMARKS), 2)
    (va, ya, pa), (vb, yb, pb) = LANDMARKS[a], LANDMARKS[b]
    if ya == yb:
        return compare_facts(rng, world)
    question = f"Which came first, the {a} or the {b}?"
    oa = summarize(a, f"The {a} is a landmark in {pa}. It was {va} in {ya}.", WIKI_CHARS)
    ob = summarize(b, f"The {b} is a landmark in {pb}. It was {vb} in {yb}.", WIKI_CHARS)
    steps = [
        Step(call(f"When was the {a} {va}?", "wikipedia", query=a), oa),
        Step(call(f"{ya} for the {a}. Now the {b}.", "wikipedia", query=b), ob),
    ]
    first = a if ya < yb else b
    steps.append(
        Step(FinalAnswer(f"{ya} against {yb}.", f"The {first} came first ({a}: {ya}, {b}: {yb})."))
    )
    return question, steps


def capitals_compare(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    a, b = rng.sample(sorted(CAPITALS), 2)
    (ca, _), (cb, _) = CAPITALS[a], CAPITALS[b]
    wa, wb = world.weather(ca, title_of(a)), world.weather(cb, title_of(b))
    ta, tb = temperature_of(wa), temperature_of(wb)
    if ta == tb:
        return capitals_compare(rng, world)
    question = f"Is it warmer in the capital of {a} or in the capital of {b}?"
    steps = [
        Step(
            call(
                f"First the capital of {title_of(a)}.",
                "wikipedia",
                query=f"capital of {title_of(a)}",
            ),
            world.country_article(a),
        ),
        Step(
            call(
                f"Now the capital of {title_of(b)}.", "wikipedia", query=f"capital of {title_of(b)}"
            ),
            world.country_article(b),
        ),
        Step(call(f"The capitals are {ca} and {cb}. Weather in {ca}.", "weather", location=ca), wa),
        Step(call(f"{ca} is {ta} °C. Now {cb}.", "weather", location=cb), wb),
    ]
    warmer = ca if float(ta) > float(tb) else cb
    steps.append(
        Step(
            FinalAnswer(
                f"{ca} {ta} °C, {cb} {tb} °C.",
                f"It is warmer in {warmer}: {ca} is {ta} °C and {cb} is {tb} °C.",
            )
        )
    )
    return question, steps


def weather_service_down(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    """The forecast service fails: the honest answer says so instead of inventing a number."""
    country = rng.choice(sorted(CAPITALS))
    city, _ = CAPITALS[country]
    question = f"What's the temperature in {city} right now?"
    error = rng.choice(
        [
            "Error: Open-Meteo forecast answered HTTP 502",
            "Error: weather timed out after 5s",
            "Error: Open-Meteo geocoding is unreachable (ConnectError)",
        ]
    )
    steps = [
        Step(call(f"I check the weather in {city}.", "weather", location=city), error, error=True)
    ]
    steps.append(
        Step(
            FinalAnswer(
                "The weather service failed and I have no other source.",
                f"Sorry, I could not get the temperature in {city}: the weather "
                "service did not answer. Please try again later.",
            )
        )
    )
    return question, steps
