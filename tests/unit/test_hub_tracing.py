"""The websocket push is the last span of a title's trace: it links to the consuming span."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import services.api.hub as hub_module
from services.api.hub import TrendHub
from tests.factories import trend_scored


def test_a_flush_of_traced_events_is_a_span_linked_to_their_consumer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    monkeypatch.setattr(hub_module, "_tracer", tracer)
    hub = TrendHub()
    with tracer.start_as_current_span("trends.scored process") as consumer:
        hub.apply([trend_scored(name="Traced")])
    hub.flush()
    hub.flush()  # nothing new and traced: no second span
    pushes = [s for s in exporter.get_finished_spans() if s.name.endswith("websocket push")]
    assert len(pushes) == 1
    assert [link.context.span_id for link in pushes[0].links] == [
        consumer.get_span_context().span_id
    ]


def test_untraced_events_make_no_span(monkeypatch: pytest.MonkeyPatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(hub_module, "_tracer", provider.get_tracer("test"))
    hub = TrendHub()
    hub.apply([trend_scored(name="Plain")])
    hub.flush()
    assert exporter.get_finished_spans() == ()
