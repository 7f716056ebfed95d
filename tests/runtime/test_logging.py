"""JSON log lines carry the service and the request id."""

from __future__ import annotations

import json
import logging

from services.runtime.context import set_request_id
from services.runtime.logging import JsonFormatter


def test_json_line_has_request_id_and_extras() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.chunks = 3
    set_request_id("abc")
    try:
        line = json.loads(JsonFormatter("retrieval").format(record))
    finally:
        set_request_id(None)
    assert line["msg"] == "hello world"
    assert line["service"] == "retrieval"
    assert line["request_id"] == "abc"
    assert line["chunks"] == 3
