"""What every broker-driven service's entry point shares: logging, metrics, the ASGI shell.

A service's ``__main__`` builds its broker and subscribers, then hands them to
:func:`serve`, which runs FastStream inside a small ASGI app exposing ``/healthz``,
``/metrics`` and ``/asyncapi`` on the service's metrics port. uvicorn handles SIGINT and
SIGTERM: the lifespan closes consumers (committing nothing unfinished) and resources.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, make_asgi_app

from trendkit.db import migrate
from trendkit.logs import JsonFormatter
from trendkit.settings import CommonSettings

DEFAULT_METRICS_PORTS = {
    "scraper": 9101,
    "enricher": 9102,
    "classifier": 9103,
    "scorer": 9104,
    "drift": 9106,
}


def configure_logging(service: str, level: str = "INFO", fmt: str | None = None) -> None:
    """Log one record per line to stderr: JSON with trace ids, or text (``LOG_FORMAT``).

    ``trending up`` asks for text and prefixes each line with the service.
    """
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "json").lower()
    if fmt not in {"json", "text"}:
        raise ValueError(f"LOG_FORMAT must be json or text, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(service)
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # aiokafka narrates every group join at INFO; keep it for warnings.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger(service).setLevel(level.upper())


async def prepare_database(settings: CommonSettings) -> None:
    """Bring the schema to head; cheap when it already is (and locked against races)."""
    if os.environ.get("TRENDING_SKIP_MIGRATIONS") != "1":
        await migrate.upgrade(settings.database_url)


def build_app(
    *,
    broker: KafkaBroker,
    registry: CollectorRegistry,
    lifespan: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> AsgiFastStream:
    """Wrap the broker in an ASGI app with health, metrics and AsyncAPI routes."""

    def _lifespan(*_: Any) -> AbstractAsyncContextManager[None]:
        assert lifespan is not None
        return lifespan()

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/healthz", make_ping_asgi(broker, timeout=5.0)),
            ("/metrics", make_asgi_app(registry)),
        ],
        asyncapi_path="/asyncapi",
        lifespan=_lifespan if lifespan is not None else None,
        # Runs before the broker stops: a batch still settling commits its offsets.
        on_shutdown=list(on_shutdown),
    )


def add_metrics_route(app: FastAPI, registry: CollectorRegistry) -> None:
    """Serve the registry at exactly ``/metrics``, where Prometheus scrapes.

    A route, not a mount: a mount answers only ``/metrics/``, and on the api the page's
    catch-all mount would answer ``/metrics`` itself, with a 404.
    """

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a TCP socket for ``uvicorn.Server.serve(sockets=[...])`` (tests, benchmarks).

    uvicorn binding a host and port itself ends up with TCP_NODELAY on every connection;
    handed a bound socket under uvloop, its connections keep Nagle's algorithm on. Then a
    response written in two pieces (headers, body) waits for the client's delayed ACK:
    40 ms per request on a kept-alive connection, which once made ``bench/api_rest``
    measure the kernel instead of the api. Linux copies TCP_NODELAY from the listening
    socket to the connections it accepts, so it is set here.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def serve(
    app: Any,
    *,
    service: str,
    settings: CommonSettings,
    port: int | None = None,
    **uvicorn_options: Any,
) -> None:
    """Serve an ASGI app (a service's FastStream shell or FastAPI app) until SIGINT/SIGTERM.

    ``uvicorn_options`` go to uvicorn as they are (the api sets its websocket options).
    """
    # Everything built at start-up lives for the whole process: take it out of the
    # collector's reach, and collect the old generation less often. A full collection
    # walks every live object and, with thousands of titles in memory, stalled batches
    # for hundreds of milliseconds (seen as the p99 of bench/pipeline).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    uvicorn.run(
        app,
        host=settings.bind_host,
        port=port or settings.metrics_port or DEFAULT_METRICS_PORTS.get(service, 9100),
        log_level="warning",
        access_log=False,
        # The service's own logging config stays in force.
        log_config=None,
        **uvicorn_options,
    )
