"""Websocket fan-out: 1,000 subscribers of one api process; delivery latency and server CPU.

    python -m bench.api_fanout [--clients 1000] [--rate 10] [--seconds 20]
                               [--flush-interval 0.1] [--compression deflate|none]

The server is a real uvicorn process serving ``/ws/trends`` (``services.api.ws`` over a
``TrendHub``) whose hub is fed in-process by a generator of scored events: ``--rate``
events a second, each moving one title of the top 50, so every subscriber's view changes.
With ``--flush-interval`` = 1/rate each event becomes (about) one delta per client.
Kafka is left out on purpose: this measures the fan-out, not the broker hop
(``bench.pipeline`` measures that).

The clients are ``websockets`` connections in THIS process (a separate process from the
server), all subscribed to the day window's top 50, offering permessage-deflate like a
browser unless ``--compression none``; the server accepts it only with
``API_WS_COMPRESSION=true`` (off by default: see ``ApiSettings.websocket_options``).
Two latencies per delta a client receives:

* delivery (``p50_ms``/``p99_ms``): receipt − the delta's ``at``, the time the server's
  flush built it: fan-out, the socket writes and the client's own reading;
* event (``event_p50_ms``/``event_p99_ms``): receipt − the event's ``observed_at``, the
  time the generator made it, so it also includes the wait for the next flush (coalescing,
  at most ``--flush-interval``); sampled on the first 50 clients to keep client CPU down.

Both processes share this machine's cores, so the client's own CPU is printed too. The
last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import psutil
import uvloop
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from bench.common import percentile, server_process
from services.api.hub import TrendHub
from services.api.routes import build_router
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from stack.ports import free_port
from trendkit.contracts import (
    MediaType,
    Provenance,
    ScoreComponents,
    TitleInfo,
    TrendScored,
    make_title_id,
    now_utc,
)
from trendkit.runtime import serve

VIEW = 50  # every client watches the day window's top 50
CATALOGUE = 200
EVENT_SAMPLE_CLIENTS = 50
CONNECT_CONCURRENCY = 50


# --- the server process ------------------------------------------------------------------


def scored(n: int, score: float) -> TrendScored:
    """Return title ``n``'s scored event (about 1 KB of JSON), observed now."""
    name = f"Bench title {n}"
    media: MediaType = "tv" if n % 3 == 0 else "movie"
    return TrendScored(
        event_id=str(uuid.uuid4()),
        title_id=make_title_id(media_type=media, title=name, year=2025),
        observed_at=now_utc(),
        window="day",
        score=score,
        rank=n,
        components=ScoreComponents(
            sources={"tmdb_trending_day": score * 0.6, "imdb_chart": score * 0.4}, raw=score
        ),
        explanation=f"{name} climbs on two charts at once and the hype keeps growing. " * 4,
        title=TitleInfo(name=name, media_type=media, year=2025, overview="A bench title."),
        genres=["Drama", "Thriller"],
        summary=f"{name}, in one line, as the enricher would write it.",
        vibe_tags=["tense", "stylish", "slow-burn"],
        scored_by=Provenance(provider="bench", model="synthetic", version="1"),
    )


async def feed(hub: TrendHub, rate: float) -> None:
    """Move one top-50 title every 1/rate seconds, at a steady pace (no drift)."""
    hub.load_snapshot(scored(n, 100 - n * 0.4) for n in range(1, CATALOGUE + 1))
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    for i in range(sys.maxsize):
        n = i % VIEW + 1
        hub.apply([scored(n, round(100 - n * 0.4 + random.uniform(-0.15, 0.15), 3))])
        next_at += 1 / rate
        await asyncio.sleep(max(0.0, next_at - loop.time()))


def server_app(settings: ApiSettings, rate: float) -> FastAPI:
    """Return the websocket app with a hub fed in-process."""
    hub = TrendHub.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        hub.start()
        feeder = asyncio.create_task(feed(hub, rate))
        try:
            yield
        finally:
            feeder.cancel()
            await hub.stop()

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_ws_router(hub, settings))
    app.include_router(build_router(hub))
    return app


def run_server(port: int, rate: float, flush_interval: float, clients: int) -> None:
    """Serve until terminated (the production ``serve``: uvicorn, uvloop, gc tuning)."""
    settings = ApiSettings(
        port=port,
        ws_flush_interval_s=flush_interval,
        ws_max_connections_per_ip=clients + 10,
    )
    serve(
        server_app(settings, rate),
        service="api",
        settings=settings,
        port=port,
        **settings.websocket_options(),  # as the api runs: API_WS_COMPRESSION decides
    )


# --- the client process --------------------------------------------------------------------


@dataclass
class Measurements:
    """What every client records while the clock runs."""

    measuring: bool = False
    deltas: int = 0
    delivery_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)
    _at_cache: dict[str, float] = field(default_factory=dict)

    def at_epoch(self, at: str) -> float:
        """Parse a server time once however many clients saw it (they share flushes)."""
        epoch = self._at_cache.get(at)
        if epoch is None:
            epoch = self._at_cache[at] = datetime.fromisoformat(at).timestamp()
        return epoch


def _delta_at(text: str) -> str | None:
    """Return a delta's ``at`` without decoding the whole message (clients share a CPU)."""
    if not text.startswith('{"type":"delta"'):
        return None
    start = text.index('"at":"') + 6
    return text[start : text.index('"', start)]


async def run_client(
    ws: ClientConnection, sample_events: bool, results: Measurements, ready: asyncio.Event
) -> None:
    """Subscribe, wait for the snapshot, then time every delta."""
    await ws.send(json.dumps({"type": "subscribe", "window": "day", "limit": VIEW}))
    async for text in ws:
        received = time.time()
        assert isinstance(text, str)
        if text.startswith('{"type":"snapshot"'):
            ready.set()
        at = _delta_at(text)
        if at is None or not results.measuring:
            continue
        results.deltas += 1
        results.delivery_ms.append((received - results.at_epoch(at)) * 1000)
        if sample_events:
            for item in json.loads(text)["upserts"]:
                observed = datetime.fromisoformat(item["observed_at"]).timestamp()
                results.event_ms.append((received - observed) * 1000)


async def connect_clients(
    url: str, count: int, compression: Literal["deflate"] | None, results: Measurements
) -> tuple[contextlib.AsyncExitStack, list[asyncio.Task[None]]]:
    """Open ``count`` subscribed sockets, a few at a time; return them once all have a snapshot."""
    stack = contextlib.AsyncExitStack()
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            ws = await stack.enter_async_context(connect(url, compression=compression))
            ready = asyncio.Event()
            sample = i < EVENT_SAMPLE_CLIENTS
            tasks.append(asyncio.create_task(run_client(ws, sample, results, ready)))
            await asyncio.wait_for(ready.wait(), 30)

    await asyncio.gather(*(one(i) for i in range(count)))
    return stack, tasks


def cpu_pressure() -> float | None:
    """Return the share of the last 10 s some task waited for a CPU (Linux PSI), in %.

    Both processes share the machine with whatever else runs; a high figure means the
    latencies measure the neighbours as much as the fan-out.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return float(some.split()[1].removeprefix("avg10="))
    return None


async def measure(args: argparse.Namespace, url: str, server: psutil.Process) -> dict[str, object]:
    """Connect the clients, time deltas for ``args.seconds``, return the figures."""
    results = Measurements()
    compression: Literal["deflate"] | None = "deflate" if args.compression == "deflate" else None
    began = time.monotonic()
    stack, tasks = await connect_clients(url, args.clients, compression, results)
    print(f"{args.clients} clients connected and subscribed in {time.monotonic() - began:.1f} s")
    me = psutil.Process()
    async with stack:
        await asyncio.sleep(1.0)  # let the snapshots drain before the clock starts
        server.cpu_percent(None)
        me.cpu_percent(None)
        results.measuring = True
        await asyncio.sleep(args.seconds)
        results.measuring = False
        server_cpu, client_cpu = server.cpu_percent(None), me.cpu_percent(None)
        for task in tasks:
            task.cancel()
    delivery = results.delivery_ms
    return {
        "clients": args.clients,
        "rate_events_per_s": args.rate,
        "flush_interval_s": args.flush_interval,
        "compression": args.compression,
        "deltas_per_s": round(results.deltas / args.seconds / args.clients, 2),
        "deltas_received": results.deltas,
        "p50_ms": round(statistics.median(delivery), 1) if delivery else None,
        "p99_ms": round(percentile(delivery, 99), 1),
        "max_ms": round(max(delivery, default=float("nan")), 1),
        "event_p50_ms": round(percentile(results.event_ms, 50), 1),
        "event_p99_ms": round(percentile(results.event_ms, 99), 1),
        "server_cpu_percent": round(server_cpu, 1),
        "client_cpu_percent": round(client_cpu, 1),
        "cores": psutil.cpu_count(),
        "cpu_pressure_avg10": cpu_pressure(),
    }


def run_bench(args: argparse.Namespace) -> dict[str, object]:
    """Start the server process, measure from this one, stop the server."""
    port = free_port()
    options = ["--rate", str(args.rate), "--flush-interval", str(args.flush_interval)]
    with server_process(
        "bench.api_fanout", port, *options, "--clients", str(args.clients)
    ) as server:
        url = f"ws://127.0.0.1:{port}/ws/trends"
        return uvloop.run(measure(args, url, psutil.Process(server.pid)))


def _raise_file_limit() -> None:
    # A thousand sockets each side: lift the soft limit on open files to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def main() -> None:
    """Parse arguments; run the bench (or, with --serve, the server side of it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="scored events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--flush-interval", type=float, default=0.1)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _raise_file_limit()
    if args.serve is not None:
        run_server(args.serve, args.rate, args.flush_interval, args.clients)
        return
    figures = run_bench(args)
    for name, value in figures.items():
        print(f"{name:>20}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
