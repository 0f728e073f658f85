"""One trace from a raw title to its score: context rides in Kafka headers, spans go to OTLP.

A small OTLP/HTTP receiver stands in for the collector; the enricher, classifier and
scorer run as real processes exporting every trace to it. The title is sent with a W3C
``traceparent`` header, as the scraper's publisher sends it. Stages consume in batches,
so each hop's span *links* to the contexts of the messages in its batch (OpenTelemetry's
model for batch processing, which FastStream follows) rather than being their child.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from stack.ports import free_port
from tests.factories import title_observed
from tests.kafka_io import Reader, services
from trendkit.contracts import TITLES_RAW, TRENDS_SCORED
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class _Span:
    service: str
    trace_id: str
    name: str
    links: frozenset[str]  # trace ids of the spans it links to (one per batched message)


class _Collector(ThreadingHTTPServer):
    """Keeps every span it is sent, and what went wrong receiving any."""

    spans: list[_Span]
    errors: list[str]


class _Receive(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "?",
            )
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    links = frozenset(link.trace_id.hex() for link in span.links)
                    self.server.spans.append(_Span(service, span.trace_id.hex(), span.name, links))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector(("127.0.0.1", free_port()), _Receive)
    server.spans, server.errors = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_one_trace_runs_from_the_raw_title_to_its_score(
    settings: CommonSettings, tmp_path: Path, collector: _Collector
) -> None:
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    env = {
        "TRACE_SAMPLE_RATIO": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second
        "SCORER_LATENESS_S": "0",
    }
    title = title_observed(name="Traced Title")
    with services(settings, ("enricher", "classifier", "scorer"), tmp_path, env=env):
        async with Reader(settings, TRENDS_SCORED) as reader:
            producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
            await producer.start()
            try:
                await producer.send_and_wait(
                    settings.topic(TITLES_RAW),
                    title.model_dump_json().encode(),
                    key=title.key,
                    # As FastStream's publisher sends them (the scraper's): a correlation
                    # id, which batch consumers link by, and the trace context.
                    headers=[
                        ("correlation_id", b"traced-title-1"),
                        ("traceparent", PARENT.encode()),
                    ],
                )
            finally:
                await producer.stop()
            await reader.until(lambda records: len(records) >= 1, within=60)

        def linked(service: str, upstream: set[str]) -> set[str]:
            """Trace ids of ``service``'s spans that link to one of ``upstream``."""
            return {
                s.trace_id for s in collector.spans if s.service == service and s.links & upstream
            }

        def chain() -> list[set[str]]:
            enricher = linked("enricher", {TRACE_ID})
            classifier = linked("classifier", enricher)
            return [enricher, classifier, linked("scorer", classifier)]

        # Spans leave each service in the background (OTEL_BSP_SCHEDULE_DELAY): poll ≤ 30 s.
        for _ in range(150):
            if all(chain()):
                break
            await asyncio.sleep(0.2)
    assert not collector.errors
    # Each hop's batch span links to the message it consumed, whose headers carried the
    # previous hop's context: the chain leads from the raw title to its score.
    assert all(chain()), collector.spans
