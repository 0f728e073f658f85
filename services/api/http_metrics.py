"""HTTP latency by route on the api's /metrics (``trending_http_request_seconds``).

A plain ASGI middleware: it times each HTTP request and labels it with the route's
template (``/api/titles/{title_id}``, not the id), so the label set stays small; paths
no route matched (static files, 404s) are labelled by kind, not by path.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


def request_histogram(registry: CollectorRegistry) -> Histogram:
    """Return the histogram the middleware fills."""
    return Histogram(
        "trending_http_request_seconds",
        "HTTP request latency by method, route template and status",
        ["method", "route", "status"],
        registry=registry,
        buckets=BUCKETS,
    )


class HttpMetricsMiddleware:
    """Time every HTTP request; websocket and lifespan traffic passes through untouched."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("static" if status < 400 else "unmatched")
            self.histogram.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
