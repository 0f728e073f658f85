"""Load ``GET /api/trends`` on a real api server process; print requests/s and latency.

    python -m bench.api_rest [--titles 500] [--seconds 10] [--concurrency 50] [--updates 4]

The server is a process of its own run as the api runs (``trendkit.runtime.serve``:
uvicorn with uvloop and httptools, the production gc tuning), serving the REST router
behind the api's HTTP metrics middleware, with a hub holding ``--titles`` titles per
window. While it is loaded the hub takes ``--updates`` batches of 20 rescored titles per
second, as it does from ``trends.scored``, so cached pages really are invalidated and
rebuilt.

The client, in this process, keeps ``--concurrency`` requests in flight (closed loop) on
as many kept-alive HTTP/1.1 connections, sending what a browser sends
(``Accept-Encoding: gzip``). It is a few dozen lines over asyncio's protocols on uvloop
rather than aiohttp because aiohttp spent more CPU per request (0.37 ms) than the server
(0.30 ms): on two cores the client, not the api, set the pace. A first request through
the standard library checks that the page really is a JSON ranking.

Three runs: the plain first page (``window=day&limit=50``), a filtered page
(``genre=drama&media_type=movie``), and clients revalidating with ``If-None-Match``
(a 304 while the page has not changed). Latency is measured by the client from the
request's write to the response's last byte. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import statistics
import time
import urllib.request
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import psutil
import uvloop
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from bench.common import percentile, server_process
from services.api.http_metrics import HttpMetricsMiddleware, request_histogram
from services.api.hub import TrendHub
from services.api.rest import add_rest_api
from services.api.routes import build_router
from services.api.settings import ApiSettings
from stack.ports import free_port
from trendkit.contracts import (
    WINDOWS,
    MediaType,
    Provenance,
    ScoreComponents,
    TitleInfo,
    TrendScored,
    Window,
    now_utc,
)
from trendkit.db.database import Database
from trendkit.runtime import serve

GENRE_POOL = ("Drama", "Comedy", "Action", "Thriller", "Science Fiction", "Horror", "Romance")
PROVENANCE = Provenance(provider="trendkit", model="trend-score", version="1")
UPDATE_BATCH = 20
TARGET_P99_MS = 20.0
WARMUP_S = 1.0
PAGE = "/api/trends?window=day&limit=50"
VARIANTS = {
    "plain": (PAGE, False),
    "filtered": (f"{PAGE}&genre=drama&media_type=movie", False),
    "revalidating": (PAGE, True),
}


# --- the server process -------------------------------------------------------------


def scored(i: int, window: Window, rank: int, tag: int = 0) -> TrendScored:
    """Return a realistic item (about 800 bytes of JSON) for title ``i``."""
    media: MediaType = "tv" if i % 3 == 0 else "movie"
    name = f"Bench Title {i}"
    score = max(0.0, 100.0 - rank * 0.19)
    return TrendScored(
        event_id=f"bench-{window}-{i}-{tag}",
        title_id=f"tmdb:{media}:{i + 1}",
        observed_at=now_utc(),
        window=window,
        score=score,
        rank=rank,
        previous_rank=rank + 1,
        components=ScoreComponents(
            sources={"tmdb_trending_day": score * 0.6, "imdb_moviemeter": score * 0.4},
            agreement=0.5,
            velocity=1.0,
            hype=12.0,
            raw=score,
        ),
        explanation=f"{name} climbs on two charts at once.",
        title=TitleInfo(name=name, media_type=media, year=2000 + i % 25, overview="x" * 120),
        genres=[GENRE_POOL[i % len(GENRE_POOL)], GENRE_POOL[(i * 3 + 1) % len(GENRE_POOL)]],
        summary=f"{name}, in one sentence that a hover card can show.",
        vibe_tags=["tense", "bingeable"],
        scored_by=PROVENANCE,
    )


def seeded_hub(titles: int) -> TrendHub:
    """Return a hub holding ``titles`` titles in every window."""
    hub = TrendHub()
    hub.load_snapshot(scored(i, w, i + 1) for w in WINDOWS for i in range(titles))
    return hub


async def keep_updating(hub: TrendHub, titles: int, per_second: float) -> None:
    """Rescore a batch of random titles ``per_second`` times a second, until cancelled."""
    rng = random.Random(7)
    tag = 0
    while per_second > 0:
        await asyncio.sleep(1 / per_second)
        tag += 1
        batch = [
            scored(i, "day", rank=rng.randint(1, titles), tag=tag)
            for i in rng.sample(range(titles), UPDATE_BATCH)
        ]
        hub.apply(batch)


def server_app(titles: int, updates: float) -> FastAPI:
    """Return the api's REST routes over a seeded hub that keeps being rescored."""
    hub = seeded_hub(titles)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        updating = asyncio.create_task(keep_updating(hub, titles, updates))
        try:
            yield
        finally:
            updating.cancel()

    app = FastAPI(lifespan=lifespan)
    # /api/trends never reads Postgres: the database is configured, never opened.
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="bench")
    add_rest_api(app, hub, offline)
    app.include_router(build_router(hub))  # /healthz
    app.add_middleware(HttpMetricsMiddleware, histogram=request_histogram(CollectorRegistry()))
    return app


def run_server(port: int, titles: int, updates: float) -> None:
    """Serve until terminated, as the api serves."""
    settings = ApiSettings(port=port)
    serve(server_app(titles, updates), service="api", settings=settings, port=port)


# --- the client ---------------------------------------------------------------------


class KeptAlive(asyncio.Protocol):
    """One HTTP/1.1 connection that sends a GET and waits for its whole response.

    Responses are framed by Content-Length (the api never chunks a page); a chunked one
    is refused rather than misread.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, str, bytes]] | None = None
        # The response being read, once its head is parsed: status, ETag, body span.
        self.head: tuple[int, str, int, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        if self.head is None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            lines = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
            headers = {
                name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])
            }
            if "chunked" in headers.get("transfer-encoding", ""):
                self.waiter.set_exception(ValueError("a chunked response: not what the api sends"))
                return
            start = head_end + 4
            length = int(headers.get("content-length", "0"))
            self.head = (int(lines[0][9:12]), headers.get("etag", ""), start, start + length)
        status, etag, start, end = self.head
        if len(self.buffer) >= end:
            body = bytes(self.buffer[start:end])
            del self.buffer[:end]
            self.head = None
            self.waiter.set_result((status, etag, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"the server closed the connection: {exc}"))

    async def get(self, request: bytes) -> tuple[int, str, bytes]:
        """Send one request; return its status, ETag and (still encoded) body."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def request_bytes(port: int, path: str, etag: str) -> bytes:
    """Return a GET as a browser's fetch sends it (gzip accepted, maybe revalidating)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept-Encoding: gzip"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def check_page(port: int, path: str) -> None:
    """Fetch the page once the ordinary way; fail unless it is a ranking with items."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    if not json.loads(body)["items"]:
        raise RuntimeError(f"{path} answered no items: nothing to measure")


async def load(
    port: int, path: str, seconds: float, concurrency: int, revalidate: bool
) -> dict[str, Any]:
    """Keep ``concurrency`` requests in flight for ``seconds``; return the figures.

    With ``revalidate`` each connection polls like a browser cache: it sends the ETag of
    the last page it received, and gets a 304 while the ranking has not changed.
    """
    loop = asyncio.get_running_loop()
    connections = [
        (await loop.create_connection(KeptAlive, "127.0.0.1", port))[1] for _ in range(concurrency)
    ]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    plain = request_bytes(port, path, "")

    async def worker(connection: KeptAlive, until: float, record: bool) -> None:
        etag = ""
        while (start := time.perf_counter()) < until:
            request = request_bytes(port, path, etag) if revalidate and etag else plain
            status, tag, _ = await connection.get(request)
            if record:
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
            etag = tag or etag

    try:
        warm_until = time.perf_counter() + WARMUP_S
        await asyncio.gather(*(worker(c, warm_until, False) for c in connections))
        began = time.perf_counter()
        await asyncio.gather(*(worker(c, began + seconds, True) for c in connections))
        elapsed = time.perf_counter() - began
    finally:
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
    return figures(latencies, elapsed, statuses)


def figures(latencies: list[float], elapsed: float, statuses: dict[int, int]) -> dict[str, Any]:
    """Summarise one run."""
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def measure(args: argparse.Namespace, port: int, server: psutil.Process) -> dict[str, Any]:
    """Load each variant in turn; return the figures by variant, CPU per request included."""
    results: dict[str, Any] = {}
    for name, (path, revalidate) in VARIANTS.items():
        print(f"{name}: GET {path} for {args.seconds:g} s…", flush=True)
        server_cpu, client_cpu = sum(server.cpu_times()[:2]), time.process_time()
        result = await load(port, path, args.seconds, args.concurrency, revalidate)
        # CPU time, unlike latency, means something on a machine shared with others
        # (warm-up requests are not counted in ``requests``, so this slightly overstates).
        for side, spent in (
            ("server", sum(server.cpu_times()[:2]) - server_cpu),
            ("client", time.process_time() - client_cpu),
        ):
            result[f"{side}_cpu_ms_per_request"] = round(spent * 1000 / result["requests"], 3)
        results[name] = result
        print("  " + _line(result), flush=True)
    return results


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['requests_per_s']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms, statuses {r['statuses']}; CPU per request: "
        f"server {r['server_cpu_ms_per_request']:.3f} ms, "
        f"client {r['client_cpu_ms_per_request']:.3f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (or, with ``--client``, one load run) and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--titles", type=int, default=500, help="titles per window")
    parser.add_argument("--seconds", type=float, default=10.0, help="per variant")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--updates", type=float, default=4.0, help="hub batches per second")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        run_server(args.serve, args.titles, args.updates)
        return
    port = free_port()
    with server_process(
        "bench.api_rest", port, "--titles", str(args.titles), "--updates", str(args.updates)
    ) as server:
        for path, _ in VARIANTS.values():
            check_page(port, path)
        results = uvloop.run(measure(args, port, psutil.Process(server.pid)))
    plain = results["plain"]
    verdict = "met" if plain["p99_ms"] <= TARGET_P99_MS else "MISSED"
    print(f"target p99 <= {TARGET_P99_MS:g} ms at concurrency {args.concurrency}: {verdict}")
    print(
        json.dumps(
            {
                "bench": "api_rest",
                "titles_per_window": args.titles,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
                "hub_updates_per_s": args.updates,
                "requests_per_s": plain["requests_per_s"],
                "p50_ms": plain["p50_ms"],
                "p99_ms": plain["p99_ms"],
                "variants": results,
            }
        )
    )


if __name__ == "__main__":
    main()
