"""Two api replicas on the real stack serve the same live rankings (DESIGN: scale-out).

Each replica is its own consumer group on ``trends.scored``, so a load balancer may send
a browser to either one and it sees the same titles and scores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from stack.ports import free_port
from stack.supervisor import Supervisor
from tests.factories import title_scored, trend_scored
from tests.kafka_io import produce, service_env
from trendkit.contracts import TRENDS_SCORED, MediaType, TrendScored
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

WARM_UP_ID = "tmdb:movie:999999"


@contextlib.contextmanager
def api_replicas(settings: CommonSettings, root: Path, count: int) -> Iterator[list[str]]:
    """Run ``count`` api processes on free ports; yield their ``host:port`` addresses."""
    ports = [free_port() for _ in range(count)]
    supervisors = [
        Supervisor(
            env=service_env(settings),
            root=root / f"api-{port}",
            services=("api",),
            api_port=port,
        )
        for port in ports
    ]
    try:
        for supervisor in supervisors:  # start all, then wait: they boot side by side
            supervisor.start()
        for supervisor in supervisors:
            supervisor.wait_healthy(timeout=90)
        yield [f"127.0.0.1:{port}" for port in ports]
    finally:
        for supervisor in supervisors:
            supervisor.stop()


class Watcher:
    """One websocket subscriber that folds snapshot/delta messages into the state it shows."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.scores: dict[str, float] = {}
        self.upserts: list[tuple[str, float]] = []
        self._changed = asyncio.Event()

    async def run(self) -> None:
        """Read messages until the socket closes."""
        async for text in self.ws:
            message: dict[str, Any] = json.loads(text)
            if message["type"] == "snapshot":
                self.scores = {i["title_id"]: i["score"] for i in message["items"]}
            elif message["type"] == "delta":
                pairs = [(i["title_id"], i["score"]) for i in message["upserts"]]
                self.upserts.extend(pairs)
                self.scores.update(pairs)
                for title_id in message["removals"]:
                    self.scores.pop(title_id, None)
            self._changed.set()

    async def until(self, done: Callable[[dict[str, float]], bool], within: float) -> None:
        """Wait until ``done(scores)``; fail after ``within`` seconds."""
        async with asyncio.timeout(within):
            while not done(self.scores):
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def watching(address: str) -> AsyncIterator[Watcher]:
    """Subscribe to the day window (top 200) on one replica; yield its Watcher."""
    async with connect(f"ws://{address}/ws/trends") as ws:
        await ws.send(json.dumps({"type": "subscribe", "window": "day", "limit": 200}))
        watcher = Watcher(ws)
        task = asyncio.create_task(watcher.run())
        try:
            yield watcher
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def wait_until_both_follow(settings: CommonSettings, watchers: Sequence[Watcher]) -> None:
    """Publish a marker until every replica shows its latest version.

    Each replica joins its own consumer group and starts at the end of the topic, so
    events published before it has its partitions are never seen: wait until it has.
    """
    for attempt in range(1, 121):
        score = float(attempt % 100)
        await produce(settings, TRENDS_SCORED, [title_scored(title_id=WARM_UP_ID, score=score)])
        with contextlib.suppress(TimeoutError):
            for watcher in watchers:
                await watcher.until(_shows_marker(score), within=1)
            return
    raise AssertionError("the replicas did not start following trends.scored")


def _shows_marker(score: float) -> Callable[[dict[str, float]], bool]:
    return lambda scores: scores.get(WARM_UP_ID) == score


def scored_titles() -> list[TrendScored]:
    """Twenty titles across both media types, each with its own rank and score."""
    events = []
    for n in range(1, 21):
        media: MediaType = "tv" if n % 3 == 0 else "movie"
        events.append(
            trend_scored(
                title_id=f"tmdb:{media}:{n}",
                name=f"Title {n}",
                rank=n,
                score=round(99 - n * 1.5, 1),
            )
        )
    return events


async def rest_scores(address: str) -> list[tuple[str, float]]:
    """Return the day window as the replica's REST api serves it, in rank order."""
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        body = (await http.get("/api/trends", params={"window": "day", "limit": 200})).json()
    return [(i["title_id"], i["score"]) for i in body["items"]]


async def test_two_replicas_deliver_the_same_updates(
    settings: CommonSettings, tmp_path: Path
) -> None:
    with api_replicas(settings, tmp_path, count=2) as (first, second):
        async with watching(first) as a, watching(second) as b:
            await wait_until_both_follow(settings, [a, b])
            seen_before = len(a.upserts), len(b.upserts)

            events = scored_titles()
            await produce(settings, TRENDS_SCORED, [title_scored(e) for e in events])
            expected = {e.title_id: e.score for e in events}

            def has_all(scores: dict[str, float]) -> bool:
                return all(scores.get(t) == s for t, s in expected.items())

            await a.until(has_all, within=30)
            await b.until(has_all, within=30)

            assert a.scores == b.scores
            new_a, new_b = a.upserts[seen_before[0] :], b.upserts[seen_before[1] :]
            assert sorted(new_a) == sorted(new_b) == sorted(expected.items())

        served = [await rest_scores(address) for address in (first, second)]
        assert served[0] == served[1]
        assert {t: s for t, s in served[0] if t != WARM_UP_ID} == expected
