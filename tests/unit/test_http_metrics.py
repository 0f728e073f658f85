"""The api's HTTP latency histogram: labelled by route template, method and status."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, HTTPException
from prometheus_client import CollectorRegistry

from services.api.http_metrics import HttpMetricsMiddleware, request_histogram


async def test_requests_are_timed_by_route_template_not_by_path() -> None:
    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/api/titles/{title_id}")
    async def title(title_id: str) -> dict[str, str]:
        if title_id == "missing":
            raise HTTPException(status_code=404, detail="no such title")
        return {"title_id": title_id}

    app.add_middleware(HttpMetricsMiddleware, histogram=request_histogram(registry))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as http:
        for title_id in ("tmdb:movie:1", "tmdb:movie:2", "missing"):
            await http.get(f"/api/titles/{title_id}")
        await http.get("/nowhere")

    def count(route: str, status: str) -> float | None:
        return registry.get_sample_value(
            "trending_http_request_seconds_count",
            {"method": "GET", "route": route, "status": status},
        )

    assert count("/api/titles/{title_id}", "200") == 2
    assert count("/api/titles/{title_id}", "404") == 1
    assert count("unmatched", "404") == 1
