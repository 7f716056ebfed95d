"""Single-chain scenarios: capital -> weather, fact -> calculation, documentation fact ->
calculation; and the step helpers every scenario uses."""

from __future__ import annotations

import random
from typing import Any

from docent_training.agent_data.world import (
    CAPITALS,
    DISTRACTORS,
    DOC_FACTS,
    LANDMARKS,
    MOUNTAINS,
    WIKI_CHARS,
    World,
    title_of,
)
from docentlib.agent.protocol import FinalAnswer, Step, ToolCall
from services.gateway.agent.tools.calculator import evaluate, format_number
from services.gateway.agent.tools.wikipedia import summarize


def temperature_of(observation: str) -> str:
    """``Berlin, Germany: 12.1 °C, ...`` -> ``12.1``."""
    return observation.split(": ", 1)[1].split(" ", 1)[0]


def call(thought: str, tool: str, **arguments: Any) -> ToolCall:
    return ToolCall(thought, tool, arguments)


def calculate_step(rng: random.Random, steps: list[Step], thought: str, expression: str) -> None:
    """A calculator step, sometimes after a refused expression and its fix."""
    if rng.random() < 0.15:
        bad = rng.choice(
            [f"{expression} years", f"{expression.replace(' ', '')} =", f"compute {expression}"]
        )
        steps.append(
            Step(
                call(thought, "calculator", expression=bad),
                f"Error: cannot parse {bad!r} as arithmetic",
                error=True,
            )
        )
        thought = "Only numbers and operators are allowed; I fix the expression."
    steps.append(
        Step(
            call(thought, "calculator", expression=expression), format_number(evaluate(expression))
        )
    )


def capital_weather(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    country = rng.choice(sorted(CAPITALS))
    city, _ = CAPITALS[country]
    c = title_of(country)
    question = rng.choice(
        [
            f"What is the temperature in the capital of {country}?",
            f"How warm is it right now in the capital of {country}?",
            f"What's the current temperature in {c}'s capital?",
            f"Tell me the temperature in the capital city of {country}.",
            f"How cold or warm is it in the capital of {country} at the moment?",
            f"I'm flying to the capital of {country}. What's the temperature there now?",
            f"What temperature is it in {c}'s capital city today?",
            f"Check the current weather in the capital of {country}: how many degrees?",
        ]
    )
    steps: list[Step] = []
    query = rng.choice([f"capital of {c}", f"{c} capital", c])
    article = world.country_article(country) if rng.random() < 0.6 else world.city_article(country)
    if rng.random() < 0.08:
        steps.append(
            Step(
                call(f"I need the capital of {c} first.", "wikipedia", query=query),
                "Error: wikipedia timed out after 5s",
                error=True,
            )
        )
        query = rng.choice([c, f"{c} country"]) if query != c else f"capital of {c}"
        thought = "The lookup timed out; I will try a different query."
    else:
        thought = rng.choice(
            [
                f"I need the capital of {c} first.",
                f"First I find the capital of {c}.",
                f"Which city is the capital of {c}? I will look it up.",
            ]
        )
    steps.append(Step(call(thought, "wikipedia", query=query), article))
    weather = world.weather(city, c)
    if rng.random() < 0.15:
        wrong = rng.choice([f"{city}, {c}", f"capital of {c}", f"{city} city centre"])
        steps.append(
            Step(
                call(f"The capital is {city}. Now the weather there.", "weather", location=wrong),
                f"Error: no place named {wrong!r} was found; give a city name",
                error=True,
            )
        )
        steps.append(
            Step(call("I should give just the city name.", "weather", location=city), weather)
        )
    else:
        steps.append(
            Step(
                call(
                    rng.choice(
                        [
                            f"The capital is {city}. Now I get the weather there.",
                            f"{city} is the capital. I check its current weather.",
                        ]
                    ),
                    "weather",
                    location=city,
                ),
                weather,
            )
        )
    t = temperature_of(weather)
    answer = rng.choice(
        [
            f"It is {t} °C in {city}, the capital of {c}.",
            f"The current temperature in {city}, the capital of {c}, is {t} °C.",
            f"{city} is the capital of {c}; it is {t} °C there right now.",
        ]
    )
    steps.append(Step(FinalAnswer(f"The weather tool says {t} °C in {city}.", answer)))
    return question, steps


def landmark_calc(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    name = rng.choice(sorted(LANDMARKS))
    verb, year, place = LANDMARKS[name]
    ref = rng.choice([2000, 2010, 2020, 2024, 2025, 2026, 2030, 2050])
    kind = rng.choice(["before", "ago", "age", "decades"])
    the = "the " if not name.startswith(("Big", "K2")) else ""
    if kind == "before" and ref < year:
        kind = "age"
    if kind in ("age", "ago") and ref < year:
        ref = year + rng.randint(5, 60)
    questions = {
        "before": [
            f"How many years before {ref} was {the}{name} {verb}?",
            f"How long before {ref} was {the}{name} {verb}, in years?",
        ],
        "ago": [
            f"Counting from {ref}, how many years ago was {the}{name} {verb}?",
            f"How many years ago was {the}{name} {verb}, if it is now {ref}?",
        ],
        "age": [
            f"How old will {the}{name} be in {ref}, counting from when it was {verb}?",
            f"In {ref}, how many years will have passed since {the}{name} was {verb}?",
        ],
        "decades": [
            f"How many decades passed between {the}{name} being {verb} and {ref}?",
            f"How many decades lie between the year {the}{name} was {verb} and {ref}?",
        ],
    }
    question = rng.choice(questions[kind])
    extract = f"{the.capitalize()}{name} is a landmark in {place}. " + rng.choice(
        [
            f"It was {verb} in {year}.",
            f"Construction finished and it was {verb} in {year}.",
            f"The structure was {verb} in {year} after years of work.",
        ]
    )
    steps = [
        Step(
            call(f"I need the year {the}{name} was {verb}.", "wikipedia", query=name),
            summarize(f"{the.capitalize()}{name}".strip(), extract, WIKI_CHARS),
        )
    ]
    expression = f"({ref} - {year}) / 10" if kind == "decades" else f"{ref} - {year}"
    calculate_step(rng, steps, f"It was {verb} in {year}. Now I compute.", expression)
    value = format_number(evaluate(expression))
    unit = "decades" if kind == "decades" else "years"
    steps.append(
        Step(
            FinalAnswer(
                f"The calculator gives {value}.",
                f"{value} {unit}: {the}{name} was {verb} in {year}.",
            )
        )
    )
    return question, steps


def mountain_calc(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    name = rng.choice(sorted(MOUNTAINS))
    metres, where = MOUNTAINS[name]
    kind = rng.choice(["feet", "half", "minus", "third", "double"])
    base = rng.choice([1000, 2000, 3000, 4000]) if kind == "minus" else 0
    questions = {
        "feet": (
            f"What is the height of {name} in feet, taking one metre as 3.281 feet?",
            f"{metres} * 3.281",
            "feet",
        ),
        "half": (f"What is half the height of {name} in metres?", f"{metres} / 2", "metres"),
        "third": (
            f"What is one third of the height of {name}, in metres?",
            f"{metres} / 3",
            "metres",
        ),
        "double": (
            f"What would twice the height of {name} be in metres?",
            f"{metres} * 2",
            "metres",
        ),
        "minus": (
            f"By how many metres is {name} higher than {base} metres?",
            f"{metres} - {base}",
            "metres",
        ),
    }
    question, expression, unit = questions[kind]
    shown = f"{metres:,}"
    extract = f"{name} is a mountain in {where}. Its summit rises {shown} metres above sea level."
    steps = [
        Step(
            call(f"I need the height of {name}.", "wikipedia", query=name),
            summarize(name, extract, WIKI_CHARS),
        )
    ]
    calculate_step(rng, steps, f"{name} is {metres} metres high. Now I compute.", expression)
    value = format_number(evaluate(expression))
    steps.append(
        Step(
            FinalAnswer(
                f"The result is {value}.", f"{value} {unit} ({name} is {shown} metres high)."
            )
        )
    )
    return question, steps


def docs_calc(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    stem, query, title, text, number = rng.choice(DOC_FACTS)
    op, operand = rng.choice(
        [
            ("+", rng.choice([1, 5, 100, 1000])),
            ("*", rng.choice([2, 3, 10])),
            ("-", rng.choice([1, 2, 5])),
        ]
    )
    word = {"+": "Add", "*": "Multiply it by", "-": "Subtract"}[op]
    question = rng.choice(
        [
            f"According to the Kubernetes docs, what is {stem}? {word} {operand}"
            + (" from it." if op == "-" else " to it." if op == "+" else "."),
            f"Look up {stem} in the documentation and {word.lower()} {operand}"
            + (" from it." if op == "-" else "." if op == "*" else " to it."),
        ]
    )
    passages = [(title, text), *rng.sample(DISTRACTORS, 2)]
    rng.shuffle(passages)
    n = 1 + passages.index((title, text))
    observation = "\n".join(f"[{i}] {t}: {s}" for i, (t, s) in enumerate(passages, start=1))
    steps = [Step(call(f"I search the docs for {stem}.", "search_docs", query=query), observation)]
    expression = f"{number} {op} {operand}"
    calculate_step(rng, steps, f"The docs say {number} [{n}]. Now I compute.", expression)
    value = format_number(evaluate(expression))
    steps.append(
        Step(
            FinalAnswer(
                f"{number} {op} {operand} = {value}.",
                f"{value}: {stem} is {number} [{n}], and {expression} = {value}.",
            )
        )
    )
    return question, steps
