"""The served OpenAPI spec lists every error response, and the API keeps to it under fuzzing.

schemathesis generates valid and invalid requests for every operation in ``/openapi.json`` of
a gateway served by uvicorn (its gRPC dependencies scripted, so thousands of calls stay fast)
and checks each response: no 5xx, a documented status code, content type, headers and a body
matching the documented schema, invalid data rejected with a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.gateway.fakes import Script
from tests.gateway.threaded import threaded_gateway

ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("fuzzed-gateway")
    with threaded_gateway(Script(), data_dir=home, heartbeat_s=5.0) as url:
        yield url


@pytest.fixture(scope="module")
def spec(gateway_url: str) -> dict:
    reply = httpx.get(f"{gateway_url}/openapi.json", timeout=10)
    assert reply.status_code == 200
    return reply.json()


@pytest.fixture(scope="module")
def api_schema(gateway_url: str):
    schema = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    # An invalid body larger than max_body_bytes is rejected before it is parsed: 413 (listed
    # in every operation's responses) is a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


def _operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_error_response_is_listed_with_the_error_schema(spec: dict) -> None:
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        errors = {code: r for code, r in responses.items() if code[0] in "45"}
        if path.startswith("/v1/"):
            assert {"401", "403", "429", "500"} <= set(errors), (method, path)
        if "requestBody" in operation:
            assert {"413", "422"} <= set(errors), (method, path)
        for code, response in errors.items():
            if path == "/readyz":
                continue  # its 503 is the readiness report itself
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, code)
    completions = spec["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert {"400", "404", "503"} <= set(completions)
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]


EXAMPLES = 40  # per operation and mode; derandomized so every run checks the same cases
# A schema-valid request may still be refused for what a schema cannot say (an upload whose
# file type is unsupported: 415); every other check runs.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_keeps_to_its_spec(api_schema, mode: GenerationMode) -> None:
    """Every operation, ``EXAMPLES`` generated requests each, every schemathesis check."""
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(timeout=30, excluded_checks=EXCLUDED)

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): only in negative mode.
            assert mode is GenerationMode.NEGATIVE, operation.label
