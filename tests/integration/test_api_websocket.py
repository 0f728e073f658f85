"""The api's routes on a real uvicorn server, spoken to by a real websocket client."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.api.hub import TrendHub
from services.api.rest import add_rest_api
from services.api.routes import build_router, mount_frontend
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from tests.factories import trend_scored
from tests.servers import serving
from trendkit.contracts import ScoreComponents, TrendScored
from trendkit.db.database import Database

pytestmark = pytest.mark.integration


@asynccontextmanager
async def api(
    hub: TrendHub, frontend_dir: Path | None = None, settings: ApiSettings | None = None
) -> AsyncIterator[str]:
    settings = settings or ApiSettings()
    app = FastAPI()
    # No database here: these tests serve what the hub holds (live rankings, websocket).
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="test")
    add_rest_api(app, hub, offline)
    app.include_router(build_ws_router(hub, settings))
    app.include_router(build_router(hub))
    if frontend_dir is not None:
        mount_frontend(app, frontend_dir)
    hub.start()
    try:
        async with serving(app) as address:
            yield address
    finally:
        await hub.stop()


async def receive(ws: ClientConnection, kind: str, within: float = 5) -> dict[str, Any]:
    """Return the next message of type ``kind``, skipping others (e.g. heartbeats)."""
    async with asyncio.timeout(within):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes the socket; return the close code and reason."""
    async with asyncio.timeout(5):
        with pytest.raises(ConnectionClosed) as closed:
            await _read_forever(ws)
    frame = closed.value.rcvd
    assert frame is not None, "the server closed without a close frame"
    return frame.code, frame.reason


async def _read_forever(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["title_id"] for i in items]


SUBSCRIBE = {"type": "subscribe", "window": "day", "genres": [], "media_types": [], "limit": 50}


def subscribe(**changes: Any) -> str:
    return json.dumps({**SUBSCRIBE, **changes})


def catalogue() -> list[TrendScored]:
    reddit = ScoreComponents(sources={"reddit_hot": 12.0}, raw=60)
    return [
        trend_scored(title_id="tmdb:movie:1", name="Dune", rank=1, score=90, genres=["Sci-Fi"]),
        trend_scored(title_id="tmdb:tv:2", name="Shogun", rank=2, score=80, media_type="tv"),
        trend_scored(title_id="tmdb:movie:3", name="Alien", rank=3, score=70, genres=["Horror"]),
        trend_scored(
            title_id="tmdb:tv:4", name="Fargo", rank=4, score=60, media_type="tv", components=reddit
        ),
    ]


# --- snapshot, deltas, filters, re-subscribe --------------------------------------------


async def test_a_subscriber_gets_a_snapshot_then_a_delta_with_the_new_item() -> None:
    hub = TrendHub(flush_interval=0.02)
    hub.load_snapshot([trend_scored(title_id="tmdb:movie:1", name="Dune", rank=1, score=90)])
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(subscribe())
        snapshot = await receive(ws, "snapshot")
        assert [i["title"]["name"] for i in snapshot["items"]] == ["Dune"]

        hub.apply([trend_scored(title_id="tmdb:tv:2", name="Shogun", rank=2, media_type="tv")])
        delta = await receive(ws, "delta")

        assert [i["title_id"] for i in delta["upserts"]] == ["tmdb:tv:2"]
        assert delta["upserts"][0]["title"]["media_type"] == "tv"
        assert delta["seq"] > snapshot["seq"]
        assert datetime.fromisoformat(delta["at"]) >= datetime.fromisoformat(snapshot["at"])


async def test_filters_by_genre_media_type_source_and_min_score() -> None:
    hub = TrendHub(flush_interval=0.02)
    hub.load_snapshot(catalogue())
    async with api(hub) as address:
        url = f"ws://{address}/ws/trends"
        async with (
            connect(url) as horror,
            connect(url) as tv,
            connect(url) as reddit,
            connect(url) as top,
        ):
            await horror.send(subscribe(genres=["HORROR"]))  # genres ignore case
            await tv.send(subscribe(media_types=["tv"]))
            await reddit.send(subscribe(sources=["reddit_hot"]))
            await top.send(subscribe(min_score=75))
            assert ids((await receive(horror, "snapshot"))["items"]) == ["tmdb:movie:3"]
            assert ids((await receive(tv, "snapshot"))["items"]) == ["tmdb:tv:2", "tmdb:tv:4"]
            assert ids((await receive(reddit, "snapshot"))["items"]) == ["tmdb:tv:4"]
            assert ids((await receive(top, "snapshot"))["items"]) == ["tmdb:movie:1", "tmdb:tv:2"]

            popular = ScoreComponents(sources={"reddit_hot": 30.0})
            hub.apply([trend_scored(title_id="tmdb:movie:5", rank=5, score=85, components=popular)])
            assert ids((await receive(reddit, "delta"))["upserts"]) == ["tmdb:movie:5"]
            assert ids((await receive(top, "delta"))["upserts"]) == ["tmdb:movie:5"]

            # The next change reaches the other two; their first delta holds only it, so
            # the reddit movie above was never sent to them.
            scary = trend_scored(
                title_id="tmdb:tv:6", rank=6, score=10, media_type="tv", genres=["Horror"]
            )
            hub.apply([scary])
            assert ids((await receive(horror, "delta"))["upserts"]) == ["tmdb:tv:6"]
            assert ids((await receive(tv, "delta"))["upserts"]) == ["tmdb:tv:6"]


async def test_subscribing_again_gets_a_snapshot_of_the_new_view_then_its_deltas() -> None:
    hub = TrendHub(flush_interval=0.02)
    hub.load_snapshot(catalogue())
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(subscribe(media_types=["movie"]))
        assert ids((await receive(ws, "snapshot"))["items"]) == ["tmdb:movie:1", "tmdb:movie:3"]

        await ws.send(subscribe(media_types=["tv"], limit=1))
        assert ids((await receive(ws, "snapshot"))["items"]) == ["tmdb:tv:2"]

        hub.apply([trend_scored(title_id="tmdb:movie:1", rank=1, score=95)])
        hub.apply([trend_scored(title_id="tmdb:tv:2", rank=2, score=88, media_type="tv")])
        delta = await receive(ws, "delta")
        assert [(i["title_id"], i["score"]) for i in delta["upserts"]] == [("tmdb:tv:2", 88)]


async def test_filters_apply_per_connection() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with (
        api(hub) as address,
        connect(f"ws://{address}/ws/trends") as movies,
        connect(f"ws://{address}/ws/trends") as shows,
    ):
        await movies.send(subscribe(media_types=["movie"]))
        await shows.send(subscribe(media_types=["tv"]))
        await receive(movies, "snapshot")
        await receive(shows, "snapshot")

        hub.apply([trend_scored(title_id="tmdb:tv:7", media_type="tv")])
        hub.apply([trend_scored(title_id="tmdb:movie:8", media_type="movie", rank=2)])

        assert ids((await receive(movies, "delta"))["upserts"]) == ["tmdb:movie:8"]
        assert ids((await receive(shows, "delta"))["upserts"]) == ["tmdb:tv:7"]


async def test_heartbeats_arrive_without_a_subscription_with_rising_seq() -> None:
    hub = TrendHub(flush_interval=0.01, heartbeat_interval=0.05)
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        beats = [await receive(ws, "heartbeat") for _ in range(3)]

    seqs = [b["seq"] for b in beats]
    assert seqs == sorted(set(seqs))
    assert all(datetime.fromisoformat(b["at"]).tzinfo is not None for b in beats)


# --- errors and limits --------------------------------------------------------------------


async def test_a_bad_subscribe_gets_an_error_naming_the_field_and_the_socket_stays_open() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with api(hub) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(subscribe(window="month"))
        error = await receive(ws, "error")
        assert error["field"] == "window"
        assert error["code"] == "invalid"
        assert error["message"].startswith("window:")

        await ws.send(subscribe(limit=0))
        assert (await receive(ws, "error"))["field"] == "limit"
        await ws.send(subscribe(min_score=101))
        assert (await receive(ws, "error"))["field"] == "min_score"
        await ws.send(subscribe(sources="reddit_hot"))
        assert (await receive(ws, "error"))["field"] == "sources"
        await ws.send("subscribe please")
        assert (await receive(ws, "error"))["code"] == "not_json"

        await ws.send(b"\x00binary")
        assert "text" in (await receive(ws, "error"))["message"]

        await ws.send(subscribe())
        assert (await receive(ws, "snapshot"))["items"] == []


async def test_limit_above_the_configured_maximum_is_an_error() -> None:
    hub = TrendHub(flush_interval=0.02)
    hub.load_snapshot(catalogue())
    settings = ApiSettings(ws_max_limit=2)
    async with api(hub, settings=settings) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(subscribe(limit=3))
        error = await receive(ws, "error")
        assert error["field"] == "limit"
        assert "less than or equal to 2" in error["message"]

        await ws.send(subscribe(limit=2))
        assert len((await receive(ws, "snapshot"))["items"]) == 2


async def test_a_message_over_the_size_limit_gets_an_error_and_close_1009() -> None:
    hub = TrendHub(flush_interval=0.02)
    settings = ApiSettings(ws_max_message_bytes=1024)
    async with api(hub, settings=settings) as address, connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(subscribe(genres=["x" * 900]))  # just under: accepted
        await receive(ws, "snapshot")

        await ws.send(subscribe(genres=["x" * 1100]))
        error = await receive(ws, "error")
        assert error["code"] == "too_big"
        code, reason = await closed_with(ws)

    assert code == 1009
    assert "too big" in reason
    assert hub.stats.refusals == {"too_big": 1}


async def test_messages_over_the_rate_get_an_error_and_the_socket_stays_open() -> None:
    hub = TrendHub(flush_interval=0.02)
    settings = ApiSettings(ws_messages_burst=3, ws_messages_per_s=1)
    async with api(hub, settings=settings) as address, connect(f"ws://{address}/ws/trends") as ws:
        for limit in (1, 2, 3, 4):
            await ws.send(subscribe(limit=limit))
        error = await receive(ws, "error")
        assert error["code"] == "rate_limited"
        assert (await receive(ws, "snapshot"))["items"] == []  # for the ones accepted

        await asyncio.sleep(1.2)  # a token comes back each second
        await ws.send(subscribe(window="week"))
        assert (await receive(ws, "snapshot"))["window"] == "week"


async def test_a_client_that_keeps_flooding_is_closed_with_1008() -> None:
    hub = TrendHub(flush_interval=0.02)
    settings = ApiSettings(ws_messages_burst=2, ws_messages_per_s=1, ws_rejections_before_close=5)
    async with api(hub, settings=settings) as address, connect(f"ws://{address}/ws/trends") as ws:
        for _ in range(30):
            await ws.send(subscribe())
        code, reason = await closed_with(ws)

    assert code == 1008
    assert "too many messages" in reason


async def test_connections_beyond_the_per_address_limit_are_closed_with_1008() -> None:
    hub = TrendHub(flush_interval=0.02)
    settings = ApiSettings(ws_max_connections_per_ip=2)
    async with api(hub, settings=settings) as address:
        url = f"ws://{address}/ws/trends"
        async with connect(url) as first, connect(url) as second:
            for ws in (first, second):
                await ws.send(subscribe())
                await receive(ws, "snapshot")
            async with connect(url) as third:
                assert (await receive(third, "error"))["code"] == "too_many_connections"
                code, reason = await closed_with(third)
            assert code == 1008
            assert "too many connections" in reason

        # Once those are closed, the address may connect again.
        for _ in range(500):  # the server notices the closes asynchronously
            if not hub.clients:
                break
            await asyncio.sleep(0.01)
        async with connect(url) as again:
            await again.send(subscribe())
            await receive(again, "snapshot")


def _tiny_receive_buffer_socket(address: str) -> socket.socket:
    """Return a connected socket whose receive window is tiny, so a non-reader backs up fast."""
    host, port = address.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def test_a_stalled_client_is_sent_a_fresh_snapshot_and_never_delays_the_others() -> None:
    hub = TrendHub(flush_interval=0.02, queue_size=4)
    padding = "Because it is long. " * 400  # ~8 KB per title: buffers fill in a few flushes
    titles = [f"tmdb:movie:{n}" for n in range(1, 21)]

    def round_of(score: float) -> list[TrendScored]:
        return [
            trend_scored(title_id=t, rank=n, score=score, explanation=padding)
            for n, t in enumerate(titles, start=1)
        ]

    hub.load_snapshot(round_of(1))
    async with api(hub) as address:
        url = f"ws://{address}/ws/trends"
        stalled_sock = _tiny_receive_buffer_socket(address)
        async with (
            connect(url, sock=stalled_sock, max_queue=1, compression=None) as stalled,
            connect(url, compression=None) as reader,
        ):
            for ws in (stalled, reader):
                await ws.send(subscribe())
            await receive(reader, "snapshot")
            # ``stalled`` reads nothing from here on; ``reader`` must still get every round.
            score = 1.0
            while hub.stats.backlogs_dropped == 0 and score < 90:
                score += 1
                hub.apply(round_of(score))
                delta = await receive(reader, "delta", within=2)
                assert {i["score"] for i in delta["upserts"]} == {score}
            assert hub.stats.backlogs_dropped > 0, "the stalled client never fell behind"

            # Reading again, the stalled client catches up through a fresh snapshot.
            state: dict[str, float] = {}
            snapshots = 0
            async with asyncio.timeout(10):
                while set(state.values()) != {score}:
                    message = json.loads(await stalled.recv())
                    if message["type"] == "snapshot":
                        snapshots += 1
                        state = {i["title_id"]: i["score"] for i in message["items"]}
                    elif message["type"] == "delta":
                        state.update({i["title_id"]: i["score"] for i in message["upserts"]})
            assert snapshots >= 2


async def test_a_closed_connection_is_forgotten() -> None:
    hub = TrendHub(flush_interval=0.02)
    async with api(hub) as address:
        async with connect(f"ws://{address}/ws/trends") as ws:
            await ws.send(subscribe())
            await receive(ws, "snapshot")
            assert len(hub.clients) == 1
        for _ in range(500):  # the server notices the close asynchronously
            if not hub.clients:
                break
            await asyncio.sleep(0.01)
        assert hub.clients == []


# --- REST and the page ----------------------------------------------------------------------


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
