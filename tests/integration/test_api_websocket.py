"""The api's routes on a real uvicorn server, spoken to by a real websocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from services.api.hub import TrendHub
from services.api.rest import build_rest_router
from services.api.routes import build_router, mount_frontend
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from tests.factories import trend_scored
from tests.servers import serving
from trendkit.db.database import Database

pytestmark = pytest.mark.integration


@asynccontextmanager
async def api(hub: TrendHub, frontend_dir: Path | None = None) -> AsyncIterator[str]:
    app = FastAPI()
    # No database here: these tests serve what the hub holds (live rankings, websocket).
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="test")
    app.include_router(build_rest_router(hub, offline, ApiSettings()))
    app.include_router(build_ws_router(hub, ApiSettings()))
    app.include_router(build_router(hub))
    if frontend_dir is not None:
        mount_frontend(app, frontend_dir)
    hub.start()
    try:
        async with serving(app) as address:
            yield address
    finally:
        await hub.stop()


async def receive(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """Return the next message of type ``kind``, skipping others (e.g. heartbeats)."""
    async with asyncio.timeout(5):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


SUBSCRIBE = {"type": "subscribe", "window": "day", "genres": [], "media_types": [], "limit": 50}


async def test_a_subscriber_gets_a_snapshot_then_a_delta_with_the_new_item() -> None:
    hub = TrendHub(flush_interval=0.02)
    hub.load_snapshot([trend_scored(title_id="tmdb:movie:1", name="Dune", rank=1, score=90)])
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(json.dumps(SUBSCRIBE))
        snapshot = await receive(ws, "snapshot")
        assert [i["title"]["name"] for i in snapshot["items"]] == ["Dune"]

        hub.apply([trend_scored(title_id="tmdb:tv:2", name="Shogun", rank=2, media_type="tv")])
        delta = await receive(ws, "delta")

        assert [i["title_id"] for i in delta["upserts"]] == ["tmdb:tv:2"]
        assert delta["upserts"][0]["title"]["media_type"] == "tv"
        assert delta["seq"] > snapshot["seq"]


async def test_a_bad_subscribe_gets_an_error_naming_the_field_and_the_socket_stays_open() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(json.dumps({**SUBSCRIBE, "window": "month"}))
        error = await receive(ws, "error")
        assert error["message"].startswith("window:")

        await ws.send(json.dumps({**SUBSCRIBE, "limit": 0}))
        assert "limit" in (await receive(ws, "error"))["message"]

        await ws.send(b"\x00binary")
        assert "text" in (await receive(ws, "error"))["message"]

        await ws.send(json.dumps(SUBSCRIBE))
        assert (await receive(ws, "snapshot"))["items"] == []


async def test_filters_apply_per_connection() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with (
        api(hub) as address,
        connect(f"ws://{address}/ws/trends") as movies,
        connect(f"ws://{address}/ws/trends") as shows,
    ):
        await movies.send(json.dumps({**SUBSCRIBE, "media_types": ["movie"]}))
        await shows.send(json.dumps({**SUBSCRIBE, "media_types": ["tv"]}))
        await receive(movies, "snapshot")
        await receive(shows, "snapshot")

        hub.apply([trend_scored(title_id="tmdb:tv:7", media_type="tv")])
        hub.apply([trend_scored(title_id="tmdb:movie:8", media_type="movie", rank=2)])

        assert [i["title_id"] for i in (await receive(movies, "delta"))["upserts"]] == [
            "tmdb:movie:8"
        ]
        assert [i["title_id"] for i in (await receive(shows, "delta"))["upserts"]] == ["tmdb:tv:7"]


async def test_a_closed_connection_is_forgotten() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with api(hub) as address:
        async with connect(f"ws://{address}/ws/trends") as ws:
            await ws.send(json.dumps(SUBSCRIBE))
            await receive(ws, "snapshot")
            assert len(hub.clients) == 1
        for _ in range(500):  # the server notices the close asynchronously
            if not hub.clients:
                break
            await asyncio.sleep(0.01)
        assert hub.clients == []


async def test_rest_trends_and_health() -> None:
    hub = TrendHub()
    hub.load_snapshot(
        [
            trend_scored(title_id="tmdb:movie:1", rank=2, genres=["Drama"]),
            trend_scored(title_id="tmdb:tv:2", rank=1, media_type="tv", genres=["Comedy"]),
        ]
    )
    async with api(hub) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        everything = (await http.get("/api/trends")).json()
        assert [i["title_id"] for i in everything["items"]] == ["tmdb:tv:2", "tmdb:movie:1"]

        movies = (await http.get("/api/trends?window=day&limit=50&media_type=movie&genre=")).json()
        assert [i["title_id"] for i in movies["items"]] == ["tmdb:movie:1"]
        comedy = (await http.get("/api/trends", params={"genre": "comedy"})).json()
        assert comedy["count"] == 1

        bad = await http.get("/api/trends", params={"window": "month"})
        assert bad.status_code == 400
        assert bad.json()["detail"]["parameter"] == "window"
        assert (await http.get("/api/trends", params={"limit": "lots"})).status_code == 400

        health = (await http.get("/healthz")).json()
        assert health["status"] == "ok"
        assert health["titles"]["day"] == 2


async def test_frontend_is_served_and_a_missing_d3_says_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "main.js").write_text("export {};")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "secret.js").write_text("nope")
    async with (
        api(TrendHub(), tmp_path) as address,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
    ):
        page = await http.get("/")
        assert page.status_code == 200
        assert "<title>t</title>" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert (await http.get("/main.js")).headers["content-type"].startswith("text/javascript")
        assert (await http.get("/node_modules/secret.js")).status_code == 404

        d3 = await http.get("/vendor/d3.min.js")
        assert d3.status_code == 503
        assert "make frontend" in d3.json()["detail"]

        (tmp_path / "node_modules" / "d3" / "dist").mkdir(parents=True)
        (tmp_path / "node_modules" / "d3" / "dist" / "d3.min.js").write_text("var d3={};")
        d3 = await http.get("/vendor/d3.min.js")
        assert d3.status_code == 200
        assert d3.text == "var d3={};"
