"""The training world of the agent trajectories: countries, landmarks, mountains and
documentation facts (disjoint from the evaluation's), and :class:`World`, which renders the
tools' observations for them with the gateway's own formatting functions."""

from __future__ import annotations

import random

from services.gateway.agent.tools.weather import WMO, describe
from services.gateway.agent.tools.wikipedia import summarize

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
        name = title_of(country)
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


def title_of(name: str) -> str:
    return name[4:] if name.startswith("the ") else name
