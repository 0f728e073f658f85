"""JSON log lines carry the active trace, so a log line leads to its trace."""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry.sdk.trace import TracerProvider

from trendkit.logs import JsonFormatter


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "scorer", "levelname": "WARNING", "msg": message})
    record.__dict__.update(extra)
    return record


def test_a_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("titles.classified process") as span:
        line = JsonFormatter("scorer").format(_record("3 late observations", late=3))
    entry = json.loads(line)
    context = span.get_span_context()
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")
    assert (entry["service"], entry["level"], entry["message"]) == (
        "scorer",
        "WARNING",
        "3 late observations",
    )
    assert entry["late"] == 3


def test_a_line_outside_any_span_has_no_trace_and_keeps_the_exception() -> None:
    try:
        raise ValueError("bad page")
    except ValueError:
        record = _record("parse failed")
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter("scraper").format(record))
    assert "trace_id" not in entry
    assert "ValueError: bad page" in entry["exception"]
