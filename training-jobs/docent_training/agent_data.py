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

from docentlib.agent.protocol import FinalAnswer, Step, ToolCall, messages_for, system_prompt
from services.gateway.agent.tools.calculator import SPEC as CALCULATOR
from services.gateway.agent.tools.calculator import evaluate, format_number
from services.gateway.agent.tools.search_docs import SPEC as SEARCH_DOCS
from services.gateway.agent.tools.weather import SPEC as WEATHER
from services.gateway.agent.tools.weather import WMO, describe
from services.gateway.agent.tools.wikipedia import SPEC as WIKIPEDIA
from services.gateway.agent.tools.wikipedia import summarize

SPECS = [CALCULATOR, SEARCH_DOCS, WIKIPEDIA, WEATHER]  # the gateway's default order
WIKI_CHARS = 500

CAPITALS = {
    "Germany": ("Berlin", "Central Europe"),
    "Italy": ("Rome", "Southern Europe"),
    "Spain": ("Madrid", "south-western Europe"),
    "Portugal": ("Lisbon", "the Iberian Peninsula"),
    "Greece": ("Athens", "south-eastern Europe"),
    "Sweden": ("Stockholm", "Northern Europe"),
    "Finland": ("Helsinki", "Northern Europe"),
    "Denmark": ("Copenhagen", "Northern Europe"),
    "Austria": ("Vienna", "Central Europe"),
    "Hungary": ("Budapest", "Central Europe"),
    "the Czech Republic": ("Prague", "Central Europe"),
    "Belgium": ("Brussels", "north-western Europe"),
    "the Netherlands": ("Amsterdam", "north-western Europe"),
    "Switzerland": ("Bern", "Central Europe"),
    "Norway": ("Oslo", "Northern Europe"),
    "Romania": ("Bucharest", "south-eastern Europe"),
    "Bulgaria": ("Sofia", "south-eastern Europe"),
    "Serbia": ("Belgrade", "the Balkans"),
    "Croatia": ("Zagreb", "the Balkans"),
    "Turkey": ("Ankara", "Anatolia and south-eastern Europe"),
    "Ukraine": ("Kyiv", "Eastern Europe"),
    "Japan": ("Tokyo", "East Asia"),
    "China": ("Beijing", "East Asia"),
    "South Korea": ("Seoul", "East Asia"),
    "India": ("New Delhi", "South Asia"),
    "Pakistan": ("Islamabad", "South Asia"),
    "Indonesia": ("Jakarta", "Southeast Asia"),
    "Vietnam": ("Hanoi", "Southeast Asia"),
    "the Philippines": ("Manila", "Southeast Asia"),
    "Malaysia": ("Kuala Lumpur", "Southeast Asia"),
    "Iran": ("Tehran", "West Asia"),
    "Saudi Arabia": ("Riyadh", "West Asia"),
    "Morocco": ("Rabat", "North Africa"),
    "Nigeria": ("Abuja", "West Africa"),
    "Ghana": ("Accra", "West Africa"),
    "Ethiopia": ("Addis Ababa", "the Horn of Africa"),
    "Brazil": ("Brasília", "South America"),
    "Chile": ("Santiago", "South America"),
    "Colombia": ("Bogotá", "South America"),
    "Mexico": ("Mexico City", "North America"),
    "Cuba": ("Havana", "the Caribbean"),
    "New Zealand": ("Wellington", "Oceania"),
    "Iceland": ("Reykjavík", "the North Atlantic"),
    "Mongolia": ("Ulaanbaatar", "East Asia"),
    "Nepal": ("Kathmandu", "South Asia"),
}
LANDMARKS = {  # name: (verb, year, place)
    "Brandenburg Gate": ("completed", 1791, "Berlin, Germany"),
    "Big Ben": ("completed", 1859, "London, England"),
    "Sydney Opera House": ("opened", 1973, "Sydney Harbour"),
    "Golden Gate Bridge": ("opened", 1937, "San Francisco, United States"),
    "Tower Bridge": ("opened", 1894, "London, England"),
    "Leaning Tower of Pisa": ("completed", 1372, "Pisa, Italy"),
    "Sagrada Família": ("begun", 1882, "Barcelona, Spain"),
    "CN Tower": ("completed", 1976, "Toronto"),
    "Burj Khalifa": ("opened", 2010, "Dubai, United Arab Emirates"),
    "Atomium": ("built", 1958, "Brussels, Belgium"),
    "Space Needle": ("completed", 1962, "Seattle, United States"),
    "Petronas Towers": ("completed", 1998, "Kuala Lumpur, Malaysia"),
    "Neuschwanstein Castle": ("begun", 1869, "Bavaria, Germany"),
    "Suez Canal": ("opened", 1869, "the Isthmus of Suez"),
    "Hoover Dam": ("completed", 1936, "the United States"),
    "Chrysler Building": ("completed", 1930, "New York City, United States"),
    "Washington Monument": ("completed", 1884, "Washington, D.C., United States"),
    "Louvre Pyramid": ("completed", 1989, "a museum courtyard in Europe"),
    "Tokyo Tower": ("completed", 1958, "Tokyo, Japan"),
    "Berlin Wall": ("built", 1961, "Berlin, Germany"),
}
MOUNTAINS = {  # name: (metres, range)
    "K2": (8611, "the Karakoram"),
    "Kangchenjunga": (8586, "the Himalayas"),
    "Lhotse": (8516, "the Himalayas"),
    "Makalu": (8485, "the Himalayas"),
    "Mont Blanc": (4806, "the Alps"),
    "Matterhorn": (4478, "the Alps"),
    "Kilimanjaro": (5895, "Tanzania"),
    "Mount Fuji": (3776, "Honshu, Japan"),
    "Mount Rainier": (4392, "the Cascade Range"),
    "Mount Whitney": (4421, "the Sierra Nevada"),
    "Mount Cook": (3724, "the Southern Alps"),
    "Ojos del Salado": (6893, "the Andes"),
    "Chimborazo": (6263, "the Andes"),
    "Mount Logan": (5959, "the Saint Elias Mountains"),
    "Vinson Massif": (4892, "Antarctica"),
    "Zugspitze": (2962, "the Wetterstein range"),
    "Ben Nevis": (1345, "the Grampian Mountains"),
}
DOC_FACTS = [  # (question stem, query, title, snippet, number)
    (
        "the kubelet API port",
        "kubelet API port",
        "Ports and Protocols",
        "Worker node: TCP inbound 10250, Kubelet API, used by self and the control plane.",
        10250,
    ),
    (
        "the kube-scheduler port",
        "kube-scheduler port",
        "Ports and Protocols",
        "Control plane: TCP inbound 10259, kube-scheduler, used by self.",
        10259,
    ),
    (
        "the kube-controller-manager port",
        "kube-controller-manager port",
        "Ports and Protocols",
        "Control plane: TCP inbound 10257, kube-controller-manager, used by self.",
        10257,
    ),
    (
        "the default termination grace period of a Pod in seconds",
        "default termination grace period",
        "Pod Lifecycle",
        "By default, all deletes are graceful within 30 seconds: the kubelet waits for the "
        "termination grace period before killing the containers.",
        30,
    ),
    (
        "the default revision history limit of a Deployment",
        "Deployment revisionHistoryLimit",
        "Deployments",
        "By default, 10 old ReplicaSets will be kept; set "
        ".spec.revisionHistoryLimit to change how many are retained.",
        10,
    ),
    (
        "the default backoff limit of a Job",
        "Job backoffLimit default",
        "Jobs",
        "The number of retries before considering a Job as failed is set by .spec.backoffLimit; "
        "the back-off limit defaults to 6.",
        6,
    ),
    (
        "the default ndots value in a Pod's DNS config",
        "DNS ndots default",
        "DNS for Services and Pods",
        "The resolver configuration of a Pod uses options ndots:5 by default.",
        5,
    ),
    (
        "the default maxUnavailable percentage of a rolling update",
        "rolling update maxUnavailable",
        "Deployments",
        "Max Unavailable is an optional field that specifies the maximum number of "
        "Pods that can be unavailable during the update. The default value is 25%.",
        25,
    ),
    (
        "the default port of the kube-proxy health check",
        "kube-proxy healthz port",
        "kube-proxy",
        "--healthz-bind-address default: 0.0.0.0:10256, the IP address and port "
        "for the health check server.",
        10256,
    ),
    (
        "the default image pull progress deadline in minutes",
        "image pull progress deadline",
        "kubelet",
        "If no pulling progress is made before this deadline, the image pulling will "
        "be cancelled. Default: 1 minute.",
        1,
    ),
    (
        "the default number of container log files kept",
        "containerLogMaxFiles default",
        "Kubelet Configuration",
        "containerLogMaxFiles specifies the maximum number of container "
        "log files that can be present for a container. Default: 5.",
        5,
    ),
    (
        "the default container log max size in mebibytes",
        "containerLogMaxSize default",
        "Kubelet Configuration",
        "containerLogMaxSize is a quantity defining the maximum size of "
        "the container log file before it is rotated. Default: 10 Mi.",
        10,
    ),
]
DISTRACTORS = [
    (
        "Pods",
        "Pods are the smallest deployable units of computing that you can create and "
        "manage in Kubernetes.",
    ),
    (
        "ConfigMaps",
        "A ConfigMap is an API object used to store non-confidential data in key-value pairs.",
    ),
    (
        "Namespaces",
        "Namespaces provide a mechanism for isolating groups of resources within a single cluster.",
    ),
    (
        "Labels and Selectors",
        "Labels are key/value pairs that are attached to objects such as Pods.",
    ),
    (
        "Secrets",
        "A Secret is an object that contains a small amount of sensitive data such as "
        "a password, a token, or a key.",
    ),
    (
        "Volumes",
        "On-disk files in a container are ephemeral, which presents some problems for "
        "non-trivial applications.",
    ),
]


class World:
    """Random but consistent facts for one trajectory (weather readings, dates)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def weather(self, city: str, country: str) -> str:
        r = self.rng
        current = {
            "time": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:00",
            "temperature_2m": round(r.uniform(-15, 38), 1),
            "relative_humidity_2m": r.randint(15, 98),
            "wind_speed_10m": round(r.uniform(0, 40), 1),
            "weather_code": r.choice(sorted(WMO)),
        }
        units = {"temperature_2m": "°C", "relative_humidity_2m": "%", "wind_speed_10m": "km/h"}
        return describe({"name": city, "country": country}, current, units)

    def country_article(self, country: str) -> str:
        city, region = CAPITALS[country]
        name = _title(country)
        variants = [
            f"{name} is a country in {region}. Its capital and largest city is {city}.",
            f"{name} is a country in {region}. The capital is {city}, which is also its most "
            "populous city.",
            f"{name}, officially a sovereign state in {region}, has {city} as its capital. "
            "It is a member of several international organisations.",
        ]
        return summarize(name, self.rng.choice(variants), WIKI_CHARS)

    def city_article(self, country: str) -> str:
        city, region = CAPITALS[country]
        variants = [
            f"{city} is the capital and largest city of {country}. It is one of the major "
            f"cities of {region}.",
            f"{city} is the capital city of {country}. The city is the country's political and "
            "cultural centre.",
        ]
        return summarize(city, self.rng.choice(variants), WIKI_CHARS)


def _title(name: str) -> str:
    return name[4:] if name.startswith("the ") else name


def temperature_of(observation: str) -> str:
    """``Berlin, Germany: 12.1 °C, ...`` -> ``12.1``."""
    return observation.split(": ", 1)[1].split(" ", 1)[0]


def call(thought: str, tool: str, **arguments: Any) -> ToolCall:
    return ToolCall(thought, tool, arguments)


def capital_weather(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    country = rng.choice(sorted(CAPITALS))
    city, _ = CAPITALS[country]
    c = _title(country)
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
    _calculate(rng, steps, f"It was {verb} in {year}. Now I compute.", expression)
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
    _calculate(rng, steps, f"{name} is {metres} metres high. Now I compute.", expression)
    value = format_number(evaluate(expression))
    steps.append(
        Step(
            FinalAnswer(
                f"The result is {value}.", f"{value} {unit} ({name} is {shown} metres high)."
            )
        )
    )
    return question, steps


def _calculate(rng: random.Random, steps: list[Step], thought: str, expression: str) -> None:
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


def compare_weather(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    a, b = rng.sample(sorted(CAPITALS), 2)
    (ca, _), (cb, _) = CAPITALS[a], CAPITALS[b]
    wa, wb = world.weather(ca, _title(a)), world.weather(cb, _title(b))
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
    _calculate(rng, steps, "Now I compute with both temperatures.", expression)
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
    _calculate(rng, steps, f"The docs say {number} [{n}]. Now I compute.", expression)
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


def capitals_compare(rng: random.Random, world: World) -> tuple[str, list[Step]]:
    a, b = rng.sample(sorted(CAPITALS), 2)
    (ca, _), (cb, _) = CAPITALS[a], CAPITALS[b]
    wa, wb = world.weather(ca, _title(a)), world.weather(cb, _title(b))
    ta, tb = temperature_of(wa), temperature_of(wb)
    if ta == tb:
        return capitals_compare(rng, world)
    question = f"Is it warmer in the capital of {a} or in the capital of {b}?"
    steps = [
        Step(
            call(
                f"First the capital of {_title(a)}.", "wikipedia", query=f"capital of {_title(a)}"
            ),
            world.country_article(a),
        ),
        Step(
            call(f"Now the capital of {_title(b)}.", "wikipedia", query=f"capital of {_title(b)}"),
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
