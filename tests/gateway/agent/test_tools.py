"""The agent's tools against the local MediaWiki and Open-Meteo servers (tests/agent_world.py)."""

from __future__ import annotations

import asyncio

import pytest

from services.gateway.agent.settings import AgentSettings
from services.gateway.agent.tools.base import RunContext, ToolError
from services.gateway.agent.tools.calculator import CalculatorTool, evaluate, format_number
from services.gateway.agent.tools.registry import ToolRegistry
from services.gateway.agent.tools.weather import WeatherTool
from services.gateway.agent.tools.wikipedia import WikipediaTool
from tests.agent_world import AgentWorld


@pytest.fixture(scope="module")
def world():
    with AgentWorld.start() as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(world):
    world.faults.clear()
    yield
    world.faults.clear()


class TestCalculator:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("2 * (3 + 4)", "14"),
            ("2000 - 1889", "111"),
            ("6961 * 3.281", "22839.041"),
            ("0.1 + 0.2", "0.3"),
            ("sqrt(16) + 1", "5"),
            ("2^10", "1024"),
            ("round(pi, 2)", "3.14"),
            ("max(1, 7, 3) - min(4, -2)", "9"),
            ("-3.4 - 27.1", "-30.5"),
            ("6190 ÷ 2", "3095"),
        ],
    )
    def test_evaluates(self, expression, expected):
        assert format_number(evaluate(expression)) == expected

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("__import__('os').system('true')", "not allowed"),
            ("open('/etc/passwd')", "unknown function"),
            ("(1).__class__", "not allowed"),
            ("x + 1", "unknown name"),
            ("1 / 0", "division by zero"),
            ("9 ** 9 ** 9", "exponent"),
            ("10 ** 200", "larger than"),
            ("2000 - 1889 years", "cannot parse"),
            ("", "empty"),
            ("'a' * 3", "not allowed"),
            ("sqrt(-1)", "cannot evaluate"),
        ],
    )
    def test_refuses_with_a_reason(self, expression, message):
        with pytest.raises(ToolError) as info:
            evaluate(expression)
        assert message in info.value.message
        assert info.value.kind == "bad_arguments"

    async def test_tool(self):
        result = await CalculatorTool().run({"expression": "21 * 2"}, RunContext())
        assert result.text == "42"


class TestWikipedia:
    async def test_search_then_extract(self, world):
        tool = WikipediaTool(f"{world.base}/w/api.php", timeout_s=2)
        result = await tool.run({"query": "capital of France"}, RunContext())
        await tool.close()
        assert result.text.startswith("France: France is a country")
        assert "Paris" in result.text
        searched = [q for api, q in world.requests if api == "wikipedia"][-2:]
        assert searched[0]["list"] == "search" and searched[0]["formatversion"] == "2"
        assert searched[1]["prop"] == "extracts" and searched[1]["titles"] == "France"

    async def test_extract_is_cut_at_sentences(self, world):
        tool = WikipediaTool(f"{world.base}/w/api.php", timeout_s=2, max_chars=60)
        result = await tool.run({"query": "Eiffel Tower"}, RunContext())
        await tool.close()
        assert result.text.startswith("Eiffel Tower: The Eiffel Tower is a wrought-iron")
        assert len(result.text) <= len("Eiffel Tower: ") + 60

    async def test_nothing_found(self, world):
        tool = WikipediaTool(f"{world.base}/w/api.php", timeout_s=2)
        with pytest.raises(ToolError) as info:
            await tool.run({"query": "zzzqqq"}, RunContext())
        await tool.close()
        assert info.value.kind == "not_found"

    async def test_api_error_is_reported(self, world):
        tool = WikipediaTool(f"{world.base}/w/index.php", timeout_s=2)  # not the API
        with pytest.raises(ToolError) as info:
            await tool.run({"query": "France"}, RunContext())
        await tool.close()
        assert info.value.kind == "http" and "404" in info.value.message

    async def test_server_error_and_timeout(self, world):
        tool = WikipediaTool(f"{world.base}/w/api.php", timeout_s=0.5)
        world.faults["wikipedia"] = "503"
        with pytest.raises(ToolError) as info:
            await tool.run({"query": "France"}, RunContext())
        assert info.value.kind == "http" and "503" in info.value.message
        world.faults["wikipedia"] = "timeout"
        world.timeout_s = 1.0
        with pytest.raises(ToolError) as info:
            await tool.run({"query": "France"}, RunContext())
        await tool.close()
        assert info.value.kind == "timeout"


class TestWeather:
    async def test_geocodes_then_reads_current(self, world):
        tool = WeatherTool(f"{world.base}/v1/search", f"{world.base}/v1/forecast", 2)
        result = await tool.run({"location": "Paris"}, RunContext())
        await tool.close()
        assert result.text.startswith("Paris, France: 14.3 °C")
        assert "overcast" in result.text
        forecast = [q for api, q in world.requests if api == "forecast"][-1]
        assert forecast["current"].startswith("temperature_2m")
        assert float(forecast["latitude"]) == pytest.approx(48.85341)

    async def test_unknown_place(self, world):
        tool = WeatherTool(f"{world.base}/v1/search", f"{world.base}/v1/forecast", 2)
        with pytest.raises(ToolError) as info:
            await tool.run({"location": "Paris, France"}, RunContext())
        await tool.close()
        assert info.value.kind == "not_found" and "city name" in info.value.message

    async def test_forecast_error_reason_is_passed_on(self, world):
        tool = WeatherTool(f"{world.base}/v1/search", f"{world.base}/v1/forecast", 2)
        world.faults["forecast"] = "500"
        with pytest.raises(ToolError) as info:
            await tool.run({"location": "Cairo"}, RunContext())
        await tool.close()
        assert info.value.kind == "http" and "500" in info.value.message


class TestRegistry:
    def registry(self, world, **overrides) -> ToolRegistry:
        settings = AgentSettings(**world.urls(), tool_timeout_s=0.5, **overrides)
        return ToolRegistry.from_settings(settings, None, None)  # type: ignore[arg-type]

    async def test_unknown_tool(self, world):
        registry = self.registry(world)
        with pytest.raises(ToolError) as info:
            await registry.call("stock_price", {"symbol": "X"}, RunContext())
        await registry.close()
        assert info.value.kind == "unknown_tool"
        assert "calculator" in info.value.message

    @pytest.mark.parametrize(
        "arguments", [{}, {"location": ""}, {"location": 3}, {"location": "Paris", "extra": 1}]
    )
    async def test_bad_arguments_by_schema(self, world, arguments):
        registry = self.registry(world)
        with pytest.raises(ToolError) as info:
            await registry.call("weather", arguments, RunContext())
        await registry.close()
        assert info.value.kind == "bad_arguments"

    async def test_timeout(self, world):
        registry = self.registry(world)
        world.faults["geocoding"] = "timeout"
        world.timeout_s = 1.5
        with pytest.raises(ToolError) as info:
            await registry.call("weather", {"location": "Paris"}, RunContext())
        await registry.close()
        assert info.value.kind == "timeout" and "0.5s" in info.value.message

    async def test_switched_off_tools_are_unknown(self, world):
        registry = self.registry(world, tools=["calculator"])
        assert [s.name for s in registry.specs] == ["calculator"]
        with pytest.raises(ToolError):
            await registry.call("weather", {"location": "Paris"}, RunContext())
        await registry.close()

    def test_unknown_tool_in_settings(self):
        with pytest.raises(ValueError, match="unknown tool 'stocks'"):
            AgentSettings(tools=["calculator", "stocks"])

    async def test_concurrent_calls(self, world):
        registry = self.registry(world)
        results = await asyncio.gather(
            *(registry.call("weather", {"location": c}, RunContext()) for c in ("Lima", "Cairo"))
        )
        await registry.close()
        assert [r.text.split(":")[0] for r in results] == ["Lima, Peru", "Cairo, Egypt"]
