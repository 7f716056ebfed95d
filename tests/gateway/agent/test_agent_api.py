"""``POST /v1/agent`` over the real app: scripted model replies, real tools, local web APIs.

The generation service is the scripted gRPC double (tests/gateway/fakes.py) so each step's
action is fixed; the tools run for real against tests/agent_world.py. The real model acting
through these same routes is tested in tests/e2e/test_agent_e2e.py.
"""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace

from docentlib.agent.protocol import FinalAnswer, ToolCall, render_action
from services.gateway.agent.settings import AgentSettings
from services.gateway.app import create_app
from tests.agent_world import AgentWorld
from tests.gateway.conftest import serving
from tests.gateway.test_tracing import spans  # noqa: F401 - the fixture

QUESTION = "What is the temperature in the capital of France?"


def act(thought: str, tool: str, **arguments: object) -> str:
    return render_action(ToolCall(thought, tool, dict(arguments)))


def answer(text: str, thought: str = "I know it now.") -> str:
    return render_action(FinalAnswer(thought, text))


def sse(body: str) -> list[tuple[str, dict]]:
    """(event, data) of each frame; comments (heartbeats) skipped."""
    events = []
    for frame in body.strip().split("\n\n"):
        lines = [line for line in frame.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        name = lines[0].removeprefix("event: ")
        events.append((name, json.loads(lines[1].removeprefix("data: "))))
    return events


@pytest.fixture(scope="module")
def world():
    with AgentWorld.start() as running:
        yield running


@pytest.fixture
def app_for(fake_stack, world):
    world.faults.clear()

    def make(gateway: dict | None = None, **agent: object):
        settings = AgentSettings(**{**world.urls(), "tool_timeout_s": 1.0, **agent})
        return create_app(fake_stack(**(gateway or {})), agent_settings=settings)

    return make


async def test_capital_then_weather_states_the_number(app_for, script):
    """The lab's deliverable, with the actions scripted: wikipedia -> weather -> answer."""
    script.replies = [
        act("I need the capital of France first.", "wikipedia", query="capital of France"),
        act("The capital is Paris. Now the weather there.", "weather", location="Paris"),
        answer("It is 14.3 °C in Paris, the capital of France."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse(reply.text)
    names = [n for n, _ in events]
    assert names == ["thought", "action", "observation"] * 2 + ["thought", "answer", "done"]
    actions = [d for n, d in events if n == "action"]
    assert [(a["tool"], a["arguments"]) for a in actions] == [
        ("wikipedia", {"query": "capital of France"}),
        ("weather", {"location": "Paris"}),
    ]
    observations = [d["text"] for n, d in events if n == "observation"]
    assert "Paris" in observations[0]
    assert observations[1].startswith("Paris, France: 14.3 °C")
    final = dict(events)["answer"]
    assert "14.3" in final["text"]
    assert final["text"].endswith("Tools used: wikipedia, weather.")
    assert final["tools_used"] == ["wikipedia", "weather"]
    done = dict(events)["done"]
    assert done["metadata"]["stop_reason"] == "answer"
    assert [s["tool"] for s in done["steps"]] == ["wikipedia", "weather", None]
    assert done["usage"]["prompt_tokens"] == 3 * 42
    assert {"generation", "tools", "moderation", "total"} <= set(done["timings"])
    # Every step was constrained to the action schema, tools listed from the registry.
    schema = json.loads(script.seen["generation"][0].structured.json_schema)
    tools = [b["properties"]["tool"]["const"] for b in schema["anyOf"] if "tool" in b["properties"]]
    assert tools == ["calculator", "search_docs", "wikipedia", "weather"]


async def test_tool_errors_come_back_as_observations(app_for, script, world):
    script.replies = [
        act("Let me try.", "stock_price", symbol="ACME"),
        act("Weather then.", "weather", location="Paris, France"),
        act("Just the city.", "weather", location="Paris"),
        answer("14.3 °C in Paris."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION})
    assert reply.status_code == 200
    events = sse(reply.text)
    observations = [d for n, d in events if n == "observation"]
    assert observations[0]["error"] == "unknown_tool"
    assert observations[0]["text"].startswith("Error: unknown tool 'stock_price'")
    assert observations[1]["error"] == "not_found"
    assert observations[2]["error"] is None
    done = dict(events)["done"]
    assert done["metadata"]["tool_errors"] == 2
    assert done["tools_used"] == ["weather"]
    # The model saw the error text as its observation.
    second_prompt = script.seen["generation"][1].messages[-1].content
    assert second_prompt.startswith("Observation: Error: unknown tool")


async def test_timeouts_and_http_errors_are_observations(app_for, script, world):
    world.faults["forecast"] = "503"
    world.faults["wikipedia"] = "timeout"
    world.timeout_s = 2.0
    script.replies = [
        act("Look it up.", "wikipedia", query="France"),
        act("Weather.", "weather", location="Paris"),
        answer("I could not get the weather."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION, "stream": False})
    world.faults.clear()
    assert reply.status_code == 200
    done = reply.json()
    assert [s["error"] for s in done["steps"][:2]] == ["timeout", "http"]
    assert "timed out after 1s" in done["steps"][0]["observation"]
    assert "HTTP 503" in done["steps"][1]["observation"]


async def test_a_repeated_action_forces_an_answer(app_for, script):
    script.replies = [
        act("Weather.", "weather", location="Paris"),
        act("Again.", "weather", location="Paris"),
        answer("14.3 °C."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION, "stream": False})
    done = reply.json()
    assert done["metadata"]["stop_reason"] == "repeated_action"
    assert done["steps"][1]["error"] == "repeated_action"
    assert len(script.seen["generation"]) == 3
    last = json.loads(script.seen["generation"][-1].structured.json_schema)
    assert "tool" not in json.dumps(last["properties"]), "the forced step may only answer"
    assert "Give the final answer now" in script.seen["generation"][-1].messages[-1].content


async def test_max_steps_forces_an_answer(app_for, script):
    script.replies = [
        act("One.", "calculator", expression="1 + 1"),
        act("Two.", "calculator", expression="2 + 2"),
        answer("4"),
    ]
    async with serving(app_for(max_steps=2)) as client:
        reply = await client.post("/v1/agent", json={"question": "What is 2+2?", "stream": False})
    done = reply.json()
    assert done["metadata"]["stop_reason"] == "max_steps"
    assert [s["tool"] for s in done["steps"]] == ["calculator", "calculator", None]


async def test_the_token_budget_forces_an_answer(app_for, script):
    script.replies = [act("One.", "calculator", expression="1 + 1"), answer("2")]
    async with serving(app_for(token_budget=300, step_max_tokens=160)) as client:
        reply = await client.post("/v1/agent", json={"question": "1+1?", "stream": False})
    done = reply.json()
    # The first step fits (prompt ~ a few hundred chars / 4 + 160); a second tool call would
    # not, so the next step may only answer (the answer step itself is allowed past the budget).
    assert done["metadata"]["stop_reason"] == "token_budget"
    assert done["answer"].startswith("2")
    assert "The token budget is spent" in script.seen["generation"][1].messages[-1].content


async def test_a_full_context_window_ends_the_run_politely(app_for, script):
    script.max_model_len = 100  # the first prompt + step_max_tokens cannot fit
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": "1+1?", "stream": False})
    done = reply.json()
    assert done["metadata"]["stop_reason"] == "context_full"
    assert done["answer"].startswith("Sorry, I could not finish: the question and the steps")
    assert "generation" not in script.seen


async def test_request_max_steps_overrides_the_setting(app_for, script):
    script.replies = [act("One.", "calculator", expression="1 + 1"), answer("2")]
    async with serving(app_for()) as client:
        reply = await client.post(
            "/v1/agent", json={"question": "1+1?", "stream": False, "max_steps": 1}
        )
    assert reply.json()["metadata"]["stop_reason"] == "max_steps"


async def test_a_reply_that_is_not_an_action(app_for, script):
    script.replies = ["I think the answer is 42", "still not json"]
    async with serving(app_for(constrained=False)) as client:
        reply = await client.post("/v1/agent", json={"question": "?", "stream": False})
    assert reply.status_code == 200
    done = reply.json()
    assert done["metadata"]["stop_reason"] == "invalid_action"
    assert done["metadata"]["constrained"] is False
    assert not script.seen["generation"][0].HasField("structured")


async def test_input_moderation_refuses_before_any_step(app_for, script):
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": "you idiot, weather?"})
    events = sse(reply.text)
    assert [n for n, _ in events] == ["answer", "done"]
    assert dict(events)["done"]["metadata"]["refused"] is True
    assert dict(events)["done"]["metadata"]["moderation"] == "input"
    assert "generation" not in script.seen


async def test_output_moderation_stops_a_bad_step(app_for, script):
    script.replies = [act("What an idiot question.", "weather", location="Paris")]
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION, "stream": False})
    done = reply.json()
    assert done["metadata"]["moderation"] == "output"
    assert "idiot" not in json.dumps(done)
    assert not [q for q in done["steps"] if q.get("tool")], "the tool was not called"


async def test_search_docs_cites_and_withholds_injected_results(app_for, script):
    script.injected_marker = "Passage number 1."
    script.hits = 2
    script.replies = [
        act("Search the docs.", "search_docs", query="roll back a Deployment"),
        answer("Use kubectl rollout undo [1]."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post(
            "/v1/agent", json={"question": "How do I roll back?", "stream": False}
        )
    done = reply.json()
    assert done["steps"][0]["observation"].startswith("[withheld")
    assert done["metadata"]["withheld_observations"] == 1
    # A clean search: numbered sources, cited.
    script.injected_marker = "NOTHING MATCHES THIS"
    script.replies = [
        act("Search the docs.", "search_docs", query="roll back a Deployment"),
        answer("Use kubectl rollout undo [2]."),
    ]
    async with serving(app_for()) as client:
        reply = await client.post(
            "/v1/agent", json={"question": "How do I roll back?", "stream": False}
        )
    done = reply.json()
    assert done["steps"][0]["observation"].startswith("[1] Page 0: Passage number 0.")
    assert [s["n"] for s in done["sources"]] == [1, 2]
    assert done["citations"] == [2]
    assert done["metadata"]["citation_mode"] == "model"


async def test_generation_failure_mid_run_is_an_error_event(app_for, script):
    import grpc

    script.generate_error = grpc.StatusCode.UNAVAILABLE
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION})
        blocking = await client.post("/v1/agent", json={"question": QUESTION, "stream": False})
    events = sse(reply.text)
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["dependency"] == "generation"
    assert blocking.status_code == 503


async def test_unknown_adapter_is_the_generation_services_400(app_for, script):
    import grpc

    script.generate_error = grpc.StatusCode.INVALID_ARGUMENT
    async with serving(app_for()) as client:
        reply = await client.post(
            "/v1/agent", json={"question": QUESTION, "stream": False, "adapter": "nope"}
        )
    assert reply.status_code == 400
    assert script.seen["generation"][0].adapter == "nope"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": " "}, "question"),
        ({"question": "x", "max_steps": 0}, "max_steps"),
        ({"question": "x", "tools": []}, "tools"),
    ],
)
async def test_bad_requests_are_422(app_for, body, field):
    async with serving(app_for()) as client:
        reply = await client.post("/v1/agent", json=body)
    assert reply.status_code == 422
    assert field in reply.json()["error"]["field"]


async def test_switched_off(app_for):
    async with serving(app_for(enabled=False)) as client:
        reply = await client.post("/v1/agent", json={"question": QUESTION})
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "agent_disabled"


async def test_keys_and_scopes_as_chat(app_for, script):
    async with serving(app_for({"auth": "required"})) as client:
        anonymous = await client.post("/v1/agent", json={"question": QUESTION})
        keys = client._transport.app.state.auth.keys  # type: ignore[attr-defined]
        _, ingest_only = keys.create("ingest", ["ingest"])
        _, chat = keys.create("chat", ["chat"])
        wrong = await client.post(
            "/v1/agent",
            json={"question": QUESTION},
            headers={"Authorization": f"Bearer {ingest_only}"},
        )
        script.replies = [answer("Hello.")]
        right = await client.post(
            "/v1/agent",
            json={"question": QUESTION, "stream": False},
            headers={"Authorization": f"Bearer {chat}"},
        )
    assert anonymous.status_code == 401
    assert wrong.status_code == 403
    assert right.status_code == 200
    assert "x-ratelimit-remaining-requests" in {k.lower() for k in right.headers}


async def test_rate_limits_as_chat(app_for, script):
    """A key's requests-per-minute limit counts agent runs like chat requests: 429 with a JSON
    body and Retry-After once it is spent."""
    async with serving(app_for({"auth": "required"})) as client:
        keys = client._transport.app.state.auth.keys  # type: ignore[attr-defined]
        _, token = keys.create("slow", ["chat"], rpm=2)
        headers = {"Authorization": f"Bearer {token}"}
        replies = []
        for _ in range(3):
            script.replies = [answer("Hello.")]
            replies.append(
                await client.post(
                    "/v1/agent", json={"question": QUESTION, "stream": False}, headers=headers
                )
            )
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[2].json()["error"]["code"] == "rate_limited"
    assert int(replies[2].headers["retry-after"]) >= 1


async def test_metrics_and_a_span_per_tool_call(app_for, script, spans):  # noqa: F811
    script.replies = [
        act("Weather.", "weather", location="Lima"),
        act("Again, differently.", "weather", location="Atlantis"),
        answer("18.6 °C"),
    ]
    async with serving(app_for()) as client:
        await client.post("/v1/agent", json={"question": "Lima?", "stream": False})
        metrics = (await client.get("/metrics")).text
    tool_spans = [s for s in spans.get_finished_spans() if s.name == "gateway.agent.tool"]
    assert [s.attributes["agent.tool.outcome"] for s in tool_spans] == ["ok", "error"]
    assert tool_spans[1].status.status_code == trace.StatusCode.ERROR
    assert 'docent_gateway_agent_tool_seconds_count{outcome="ok",tool="weather"}' in metrics
    assert 'docent_gateway_agent_tool_errors_total{kind="not_found",tool="weather"}' in metrics
    assert 'docent_gateway_agent_runs_total{stop_reason="answer"}' in metrics
