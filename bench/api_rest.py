"""Load ``GET /api/trends`` on a real uvicorn server; print requests/s and latency.

    python -m bench.api_rest [--titles 500] [--seconds 10] [--concurrency 50] [--updates 4]

The server is the api's REST router on uvicorn (uvloop + httptools when installed), in
this process, on a free 127.0.0.1 port, with a hub holding ``--titles`` titles per
window. While it is loaded the hub takes ``--updates`` batches of 20 rescored titles per
second, as it does from ``trends.scored``, so cached pages really are invalidated and
rebuilt. The client runs in a separate process (aiohttp, ``--concurrency`` requests in
flight, closed loop) so client and server do not share an event loop.

Three runs: the plain first page (``window=day&limit=50``), a filtered page
(``genre=drama&media_type=movie``), and clients revalidating with ``If-None-Match``
(a 304 while the page has not changed).
Latency is measured by the client from send to last byte. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.api.hub import TrendHub
from services.api.rest import build_rest_router
from services.api.settings import ApiSettings
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
from trendkit.runtime import listening_socket

GENRE_POOL = ("Drama", "Comedy", "Action", "Thriller", "Science Fiction", "Horror", "Romance")
PROVENANCE = Provenance(provider="trendkit", model="trend-score", version="1")
UPDATE_BATCH = 20
TARGET_P99_MS = 20.0
WARMUP_S = 1.0


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


@asynccontextmanager
async def served(hub: TrendHub) -> AsyncIterator[str]:
    """Serve the REST router for the hub; yield the base URL."""
    app = FastAPI()
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="bench")
    app.include_router(build_rest_router(hub, offline, ApiSettings()))
    sock = listening_socket()
    config = uvicorn.Config(
        app, host="127.0.0.1", lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def run_client(url: str, seconds: float, concurrency: int, revalidate: bool) -> dict[str, Any]:
    """Run the load in a child process (blocking in a thread) and return its figures."""
    command = [
        sys.executable,
        "-m",
        "bench.api_rest",
        "--client",
        url,
        "--seconds",
        str(seconds),
        "--concurrency",
        str(concurrency),
        *(["--revalidate"] if revalidate else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the client process -------------------------------------------------------------


async def load(url: str, seconds: float, concurrency: int, revalidate: bool) -> None:
    """Keep ``concurrency`` requests in flight for ``seconds``; print figures as JSON.

    With ``revalidate`` each worker polls like a browser cache: it sends the ETag of the
    last page it received, and gets a 304 while the ranking has not changed.
    """
    import aiohttp  # only the client process needs it

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(until: float, record: bool) -> None:
            nonlocal sent
            etag = ""
            while (start := time.perf_counter()) < until:
                sent += 1
                headers = {"If-None-Match": etag} if revalidate and etag else {}
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    status = response.status
                    etag = response.headers.get("ETag", etag)
                if record:
                    latencies.append(time.perf_counter() - start)
                    statuses[status] = statuses.get(status, 0) + 1

        warm_until = time.perf_counter() + WARMUP_S
        await asyncio.gather(*(worker(warm_until, False) for _ in range(concurrency)))
        began = time.perf_counter()
        await asyncio.gather(*(worker(began + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    cpu = time.process_time()
    print(json.dumps({**figures(latencies, elapsed, statuses), "sent": sent, "cpu_s": cpu}))


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


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


# --- the server process -------------------------------------------------------------


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Serve, load each variant in turn, and return the figures by variant."""
    hub = seeded_hub(args.titles)
    updates = asyncio.create_task(keep_updating(hub, args.titles, args.updates))
    results: dict[str, Any] = {}
    try:
        async with served(hub) as base:
            page = f"{base}/api/trends?window=day&limit=50"
            variants = {
                "plain": (page, False),
                "filtered": (f"{page}&genre=drama&media_type=movie", False),
                "revalidating": (page, True),
            }
            for name, (url, revalidate) in variants.items():
                print(f"{name}: GET {url.removeprefix(base)} for {args.seconds:g} s…")
                cpu = time.process_time()
                result = await asyncio.to_thread(
                    run_client, url, args.seconds, args.concurrency, revalidate
                )
                # CPU time, unlike latency, means something on a machine shared with others.
                result["server_cpu_ms_per_request"] = round(
                    (time.process_time() - cpu) * 1000 / result["sent"], 3
                )
                result["client_cpu_ms_per_request"] = round(
                    result.pop("cpu_s") * 1000 / result["sent"], 3
                )
                results[name] = result
                print("  " + _line(results[name]))
    finally:
        updates.cancel()
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
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--revalidate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        asyncio.run(load(args.client, args.seconds, args.concurrency, args.revalidate))
        return
    results = asyncio.run(bench(args))
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
