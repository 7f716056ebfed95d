"""``weather``: Open-Meteo's geocoding API for the place, then its forecast API's ``current``.

``/v1/search?name=...&count=1`` (geocoding) gives coordinates; ``/v1/forecast?latitude=...&
longitude=...&current=temperature_2m,...`` gives the current conditions with their units
(``current_units``). A place that geocoding does not know has no ``results`` key.
"""

from __future__ import annotations

from typing import Any

import httpx

from docentlib.agent.protocol import ToolSpec
from services.gateway.agent.tools.base import RunContext, ToolError, ToolResult
from services.gateway.agent.tools.http import get_json

SPEC = ToolSpec(
    name="weather",
    description="current weather in a city",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string", "minLength": 1, "maxLength": 80}},
        "required": ["location"],
        "additionalProperties": False,
    },
)
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
CURRENT = ("temperature_2m", "relative_humidity_2m", "wind_speed_10m", "weather_code")
# WMO weather interpretation codes, as Open-Meteo documents them (grouped).
WMO = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "rime fog",
    51: "light drizzle",
    53: "drizzle",
    55: "dense drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    80: "rain showers",
    81: "rain showers",
    82: "violent rain showers",
    95: "thunderstorm",
    96: "thunderstorm with hail",
    99: "thunderstorm with hail",
}


class WeatherTool:
    """Usage::

    tool = WeatherTool(timeout_s=5)
    (await tool.run({"location": "Paris"})).text  # "Paris, France: 14.3 °C, ..."
    """

    spec = SPEC

    def __init__(
        self,
        geocoding_url: str = GEOCODING_URL,
        forecast_url: str = FORECAST_URL,
        timeout_s: float = 5.0,
    ) -> None:
        self.geocoding_url, self.forecast_url, self.timeout_s = (
            geocoding_url,
            forecast_url,
            timeout_s,
        )
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=True)

    async def run(self, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        location = str(arguments["location"]).strip()
        if not location:
            raise ToolError("the location is empty", "bad_arguments")
        place = await self._place(location)
        current, units = await self._current(place["latitude"], place["longitude"])
        return ToolResult(describe(place, current, units))

    async def _place(self, name: str) -> dict[str, Any]:
        body = await get_json(
            self._client,
            "Open-Meteo geocoding",
            self.geocoding_url,
            {"name": name, "count": 1, "language": "en", "format": "json"},
        )
        results = body.get("results") or []
        if not results:
            raise ToolError(f"no place named {name!r} was found; give a city name", "not_found")
        return results[0]

    async def _current(
        self, latitude: float, longitude: float
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        body = await get_json(
            self._client,
            "Open-Meteo forecast",
            self.forecast_url,
            {
                "latitude": latitude,
                "longitude": longitude,
                "current": ",".join(CURRENT),
                "timezone": "auto",
            },
        )
        current = body.get("current")
        if not isinstance(current, dict) or "temperature_2m" not in current:
            raise ToolError("Open-Meteo forecast returned no current temperature", "http")
        return current, body.get("current_units") or {}

    async def close(self) -> None:
        await self._client.aclose()


def describe(place: dict[str, Any], current: dict[str, Any], units: dict[str, Any]) -> str:
    """``Paris, France: 14.3 °C, humidity 71 %, wind 11.2 km/h, overcast (2024-06-01T12:00)``."""
    where = ", ".join(str(p) for p in (place.get("name"), place.get("country")) if p)
    parts = [f"{current['temperature_2m']} {units.get('temperature_2m', '°C')}"]
    if "relative_humidity_2m" in current:
        parts.append(
            f"humidity {current['relative_humidity_2m']} {units.get('relative_humidity_2m', '%')}"
        )
    if "wind_speed_10m" in current:
        parts.append(f"wind {current['wind_speed_10m']} {units.get('wind_speed_10m', 'km/h')}")
    if (code := current.get("weather_code")) is not None:
        parts.append(WMO.get(int(code), f"weather code {code}"))
    when = f" ({current['time']})" if current.get("time") else ""
    return f"{where}: {', '.join(parts)}{when}"
