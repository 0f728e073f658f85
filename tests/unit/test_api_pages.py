"""Cached /api/trends pages: the answers they make, and the middleware serving them early."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.api.http_metrics import HttpMetricsMiddleware, request_histogram
from services.api.hub import TrendHub
from services.api.pages import EncodedPage, PageCache
from services.api.rest import add_rest_api
from tests.factories import trend_scored
from trendkit.db.database import Database


class RouteCalls:
    """Counts the requests that reach the ``/api/trends`` route (it alone calls ``lookup``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        lookup = PageCache.lookup

        def counted(cache: PageCache, key: bytes, make: Callable[[], EncodedPage]) -> EncodedPage:
            self.count += 1
            return lookup(cache, key, make)

        monkeypatch.setattr(PageCache, "lookup", counted)


def app_with(hub: TrendHub, registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="test")
    add_rest_api(app, hub, offline)
    app.add_middleware(HttpMetricsMiddleware, histogram=request_histogram(registry))
    return app


async def test_a_cached_page_is_answered_without_the_route_and_matches_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = TrendHub()
    hub.load_snapshot([trend_scored(title_id=f"tmdb:movie:{n}", rank=n) for n in (1, 2, 3)])
    reads = RouteCalls(monkeypatch)
    registry = CollectorRegistry()
    transport = httpx.ASGITransport(app=app_with(hub, registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        made = await http.get("/api/trends?limit=2")
        assert reads.count == 1
        cached = await http.get("/api/trends?limit=2")
        assert reads.count == 1, "the second request should not have reached the route"
        assert cached.content == made.content
        assert cached.headers == made.headers
        assert [i["rank"] for i in cached.json()["items"]] == [1, 2]

        not_modified = await http.get(
            "/api/trends?limit=2", headers={"If-None-Match": made.headers["etag"]}
        )
        assert not_modified.status_code == 304
        assert reads.count == 1

        hub.apply([trend_scored(title_id="tmdb:movie:9", rank=1, score=99.0)])
        remade = await http.get(
            "/api/trends?limit=2", headers={"If-None-Match": made.headers["etag"]}
        )
        assert remade.status_code == 200, "the ranking changed: the old ETag is stale"
        assert reads.count == 2

        # Bad parameters are never cached: each one reaches the route and its 400.
        for _ in range(2):
            assert (await http.get("/api/trends?window=month")).status_code == 400

    answered = registry.get_sample_value(
        "trending_http_request_seconds_count",
        {"method": "GET", "route": "/api/trends", "status": "200"},
    )
    assert answered == 3, "cached answers are timed under the route's template too"


async def test_gzip_is_sent_only_to_clients_that_take_it() -> None:
    hub = TrendHub()
    hub.load_snapshot([trend_scored(title_id="tmdb:movie:1", rank=1)])
    transport = httpx.ASGITransport(app=app_with(hub, CollectorRegistry()))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        for _ in range(2):  # made by the route, then answered from the cache
            refused = await http.get(
                "/api/trends", headers={"Accept-Encoding": "gzip;q=0, identity"}
            )
            assert "content-encoding" not in refused.headers
            assert json.loads(refused.content)["count"] == 1
            taken = await http.get("/api/trends", headers={"Accept-Encoding": "br, gzip"})
            assert taken.headers["content-encoding"] == "gzip"
            assert taken.content == refused.content  # httpx unpacked the gzip: same JSON
            assert int(taken.headers["content-length"]) < len(refused.content)
            assert taken.headers["etag"] == refused.headers["etag"]
