"""Local stand-ins for the MediaWiki action API and Open-Meteo, answering in their formats.

This machine cannot reach Wikipedia or Open-Meteo, so the agent's web tools are tested against
these servers (docs/agent.md says what was checked against what). The payloads follow the
documented shapes: MediaWiki ``action=query`` with ``list=search`` (CirrusSearch results with
``searchinfo``/``search``, ``formatversion=2``) and ``prop=extracts`` (TextExtracts, pages as a
list, ``missing: true`` for an unknown title, errors as ``{"error": {"code", "info"}}`` with
HTTP 200 and a ``MediaWiki-API-Error`` header); Open-Meteo geocoding ``/v1/search``
(``results`` with id, name, latitude, longitude, elevation, feature_code, country_code,
timezone, population, country, admin1; no ``results`` key when nothing matches) and forecast
``/v1/forecast`` with ``current``/``current_units`` (``{"error": true, "reason"}`` with HTTP
400 for a bad request). The facts come from ``tests/data/agent/world.json``.

Usage::

    with AgentWorld.start() as world:
        settings = AgentSettings(**world.urls())
        world.faults["forecast"] = "timeout"   # or "500", or None
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

WORLD = Path(__file__).resolve().parent / "data" / "agent" / "world.json"
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "in",
        "on",
        "at",
        "is",
        "it",
        "to",
        "for",
        "what",
        "which",
        "who",
        "how",
    ]
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class AgentWorld:
    """One threaded HTTP server serving all three APIs under different paths."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.faults: dict[str, str | None] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.timeout_s = 3.0
        handler = type("Handler", (_Handler,), {"world": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @classmethod
    @contextmanager
    def start(cls, path: Path = WORLD) -> Iterator[AgentWorld]:
        world = cls(json.loads(path.read_text()))
        world.thread.start()
        try:
            yield world
        finally:
            world.server.shutdown()
            world.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def urls(self) -> dict[str, str]:
        """The AgentSettings fields that point the tools here."""
        return {
            "wikipedia_url": f"{self.base}/w/api.php",
            "geocoding_url": f"{self.base}/v1/search",
            "forecast_url": f"{self.base}/v1/forecast",
        }

    def env(self) -> dict[str, str]:
        """The same as environment variables, for a gateway process."""
        return {f"DOCENT_GATEWAY_AGENT_{k.upper()}": v for k, v in self.urls().items()}

    # -- MediaWiki ----------------------------------------------------------------------------

    def wiki(self, q: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if q.get("action") != "query":
            return (
                200,
                _wiki_error("badvalue", 'Unrecognized value for parameter "action".'),
                {"MediaWiki-API-Error": "badvalue"},
            )
        articles: dict[str, Any] = self.world["wikipedia"]
        if q.get("list") == "search":
            if not q.get("srsearch"):
                return (
                    200,
                    _wiki_error("missingparam", 'The "srsearch" parameter must be set.'),
                    {"MediaWiki-API-Error": "missingparam"},
                )
            wanted = _words(q["srsearch"])
            scored = []
            for title, page in articles.items():
                score = 3 * len(wanted & _words(title)) + len(wanted & _words(page["extract"]))
                if score:
                    scored.append((-score, title))
            scored.sort()
            limit = int(q.get("srlimit", 10))
            hits = [
                {
                    "ns": 0,
                    "title": title,
                    "pageid": articles[title]["pageid"],
                    "size": len(articles[title]["extract"]) * 12,
                    "wordcount": len(articles[title]["extract"].split()) * 10,
                    "snippet": _snippet(articles[title]["extract"], wanted),
                    "timestamp": "2026-11-30T10:00:00Z",
                }
                for _, title in scored[:limit]
            ]
            body: dict[str, Any] = {
                "batchcomplete": True,
                "query": {"searchinfo": {"totalhits": len(scored)}, "search": hits},
            }
            if len(scored) > limit:
                body["continue"] = {"sroffset": limit, "continue": "-||"}
            return 200, body, {}
        if q.get("prop") == "extracts":
            pages = []
            for title in q.get("titles", "").split("|"):
                page = articles.get(title)
                if page is None:
                    pages.append({"ns": 0, "title": title, "missing": True})
                else:
                    pages.append(
                        {
                            "pageid": page["pageid"],
                            "ns": 0,
                            "title": title,
                            "extract": page["extract"],
                        }
                    )
            return 200, {"batchcomplete": True, "query": {"pages": pages}}, {}
        return 200, {"batchcomplete": True}, {}

    # -- Open-Meteo ---------------------------------------------------------------------------

    def geocode(self, q: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        name = q.get("name", "").strip()
        if not name:
            return 400, {"error": True, "reason": "Parameter 'name' is missing"}, {}
        results = []
        for i, (place, info) in enumerate(self.world["places"].items()):
            low, want = place.lower(), name.lower()
            if low == want or (len(want) >= 3 and low.startswith(want)):
                results.append(
                    {
                        "id": 2_900_000 + i,
                        "name": place,
                        "latitude": info["latitude"],
                        "longitude": info["longitude"],
                        "elevation": info["elevation"],
                        "feature_code": "PPLC",
                        "country_code": info["country_code"],
                        "admin1_id": 3_000_000 + i,
                        "timezone": info["timezone"],
                        "population": info["population"],
                        "country_id": 3_100_000 + i,
                        "country": info["country"],
                        "admin1": place,
                    }
                )
        body: dict[str, Any] = {"generationtime_ms": 0.61}
        if results:
            body = {"results": results[: int(q.get("count", 10))], **body}
        return 200, body, {}

    def forecast(self, q: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            lat, lon = float(q["latitude"]), float(q["longitude"])
        except (KeyError, ValueError):
            return (
                400,
                {
                    "error": True,
                    "reason": "Parameter 'latitude' and 'longitude' must have the same number "
                    "of elements",
                },
                {},
            )
        if not -90 <= lat <= 90:
            return (
                400,
                {
                    "error": True,
                    "reason": f"Latitude must be in range of -90 to 90°. Given: {lat}.",
                },
                {},
            )
        place = min(
            self.world["places"].values(),
            key=lambda p: (p["latitude"] - lat) ** 2 + (p["longitude"] - lon) ** 2,
        )
        wanted = [v for v in q.get("current", "").split(",") if v]
        units = {
            "temperature_2m": "°C",
            "relative_humidity_2m": "%",
            "wind_speed_10m": "km/h",
            "weather_code": "wmo code",
        }
        current = {"time": self.world["time"], "interval": 900}
        current_units = {"time": "iso8601", "interval": "seconds"}
        for name in wanted:
            if name not in place["current"]:
                return (
                    400,
                    {
                        "error": True,
                        "reason": "Cannot initialize WeatherVariable from invalid String value "
                        f"{name} for key current",
                    },
                    {},
                )
            current[name] = place["current"][name]
            current_units[name] = units[name]
        body = {
            "latitude": round(lat, 2),
            "longitude": round(lon, 2),
            "generationtime_ms": 0.05,
            "utc_offset_seconds": 0,
            "timezone": q.get("timezone", "GMT")
            if q.get("timezone") != "auto"
            else place["timezone"],
            "timezone_abbreviation": "GMT",
            "elevation": place["elevation"],
            "current_units": current_units,
            "current": current,
        }
        return 200, body, {}


def _wiki_error(code: str, info: str) -> dict[str, Any]:
    return {
        "error": {"code": code, "info": info, "docref": "See /w/api.php for API usage."},
        "servedby": "mw-api-int.local",
    }


def _snippet(extract: str, wanted: set[str]) -> str:
    words = extract.split()[:30]
    return " ".join(
        f'<span class="searchmatch">{w}</span>' if _words(w) & wanted else w for w in words
    )


class _Handler(BaseHTTPRequestHandler):
    world: AgentWorld

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        routes = {
            "/w/api.php": ("wikipedia", self.world.wiki),
            "/v1/search": ("geocoding", self.world.geocode),
            "/v1/forecast": ("forecast", self.world.forecast),
        }
        if url.path not in routes:
            self._send(404, {"error": True, "reason": "Not Found"}, {})
            return
        api, handler = routes[url.path]
        self.world.requests.append((api, q))
        fault = self.world.faults.get(api)
        if fault == "timeout":
            time.sleep(self.world.timeout_s)
        elif fault is not None:
            self._send(int(fault), {"error": True, "reason": "Internal Server Error"}, {})
            return
        status, body, headers = handler(q)
        self._send(status, body, headers)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


def main() -> None:
    """``python -m tests.agent_world``: serve until Ctrl-C and print the env to point at it."""
    with AgentWorld.start() as world:
        for key, value in world.env().items():
            print(f"export {key}={value}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
