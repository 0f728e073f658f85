"""The TMDb client over real HTTP against the fake TMDb, and its details cache in real Redis."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from services.scraper.tmdb.client import (
    RedisDetailsCache,
    TmdbAuthError,
    TmdbClient,
    TmdbError,
)
from services.scraper.tmdb.ratelimit import TokenBucket
from services.scraper.tmdb.source import TmdbSource
from tests.fake_tmdb import MOVIES, SHOWS, TOKEN, FakeTmdb
from tests.servers import serving

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Sleeps(list[float]):
    """A fake sleep that records the delays instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@asynccontextmanager
async def tmdb(
    fake: FakeTmdb, *, token: str = TOKEN, **options: Any
) -> AsyncIterator[tuple[TmdbClient, Sleeps]]:
    """Serve the fake on a real port; yield a client for it and the delays it slept."""
    sleeps = Sleeps()
    async with (
        serving(fake.app) as address,
        TmdbClient(
            f"http://{address}", token, sleep=sleeps, random_source=lambda: 1.0, **options
        ) as client,
    ):
        yield client, sleeps


# --- endpoints ----------------------------------------------------------------------


async def test_trending_popular_details_and_genres_parse() -> None:
    fake = FakeTmdb(page_size=10)
    async with tmdb(fake) as (client, _):
        trending = await client.trending("all", "day")
        movies = await client.popular("movie")
        shows = await client.popular("tv")
        movie = await client.details("movie", 9102)
        show = await client.details("tv", 7201)
        genres = await client.genres("tv")

    assert "person" not in {t.media_type for t in trending}
    assert [t.display_name for t in trending[:2]] == ["Harbour of Glass", "Northern Signal"]
    assert [m.id for m in movies] == [m["id"] for m in MOVIES]
    assert {m.media_type for m in movies} == {"movie"}
    assert (shows[0].media_type, shows[0].display_name, shows[0].year) == (
        "tv",
        "Northern Signal",
        2023,
    )
    assert (movie.display_name, movie.year) == ("Orbit Street", 2025)
    assert [g.name for g in movie.genres] == ["Science Fiction", "Action"]
    assert show.media_type == "tv"
    assert "Sci-Fi & Fantasy" in [g.name for g in genres]


async def test_pagination_follows_total_pages_up_to_the_limit() -> None:
    fake = FakeTmdb(page_size=2)
    async with tmdb(fake) as (client, _):
        everything = await client.trending("all", "day", pages=10)
        assert fake.requests["/trending/all/day"] == 3  # 6 results, 2 a page: stops at 3
        two_pages = await client.popular("movie", pages=1)
        assert fake.requests["/movie/popular"] == 1

    assert [t.id for t in everything] == [9101, 7201, 9102, 7202, 9103]  # person skipped
    assert len(two_pages) == 2


# --- retries ------------------------------------------------------------------------


async def test_429_honours_retry_after_then_succeeds() -> None:
    fake = FakeTmdb()
    fake.fail_next(1, 429, retry_after="1")
    async with tmdb(fake, backoff_base_s=0.01) as (client, sleeps):
        movies = await client.popular("movie")
    assert movies
    assert len(sleeps) == 1
    assert sleeps[0] >= 1.0
    assert fake.requests["/movie/popular"] == 2


async def test_an_absurd_retry_after_gives_up_at_once() -> None:
    fake = FakeTmdb()
    fake.fail_next(1, 503, retry_after="3600")
    async with tmdb(fake) as (client, sleeps):
        with pytest.raises(TmdbError, match=r"wait 3600 s on /tv/popular"):
            await client.popular("tv")
    assert sleeps == []


async def test_500s_are_retried_with_exponential_backoff_then_succeed() -> None:
    fake = FakeTmdb()
    fake.fail_next(3, 500)
    async with tmdb(fake, backoff_base_s=0.5) as (client, sleeps):
        genres = await client.genres("movie")
    assert genres
    assert sleeps == [0.5, 1.0, 2.0]  # full jitter with the random source pinned to 1.0
    assert fake.requests["/genre/movie/list"] == 4


async def test_persistent_500_raises_naming_the_path_and_status() -> None:
    fake = FakeTmdb()
    fake.fail_next(10, 502)
    async with tmdb(fake, max_retries=2) as (client, sleeps):
        with pytest.raises(TmdbError, match=r"/trending/tv/week.*3 attempts.*HTTP 502") as caught:
            await client.trending("tv", "week")
    assert caught.value.path == "/trending/tv/week"
    assert caught.value.status == 502
    assert fake.requests["/trending/tv/week"] == 3
    assert len(sleeps) == 2


async def test_a_timeout_is_retried() -> None:
    fake = FakeTmdb()
    fake.hang_next(1, 0.6)
    async with tmdb(fake, timeout_s=0.2) as (client, sleeps):
        details = await client.details("tv", 7202)
    assert details.display_name == "Ledger"
    assert len(sleeps) == 1
    assert fake.requests["/tv/7202"] == 2


async def test_connection_errors_are_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the client connects
    sleeps = Sleeps()
    async with TmdbClient(f"http://127.0.0.1:{port}", TOKEN, sleep=sleeps, max_retries=2) as c:
        with pytest.raises(TmdbError, match=r"/movie/popular.*connection failed"):
            await c.popular("movie")
    assert len(sleeps) == 2


async def test_401_says_the_token_is_wrong_without_retrying() -> None:
    fake = FakeTmdb()
    async with tmdb(fake, token="not-the-token") as (client, sleeps):
        with pytest.raises(TmdbAuthError, match="token is wrong") as caught:
            await client.trending("all", "day")
    assert caught.value.status == 401
    assert "Invalid API key" in str(caught.value)
    assert fake.requests["/trending/all/day"] == 1
    assert sleeps == []


async def test_404_fails_at_once() -> None:
    fake = FakeTmdb()
    async with tmdb(fake) as (client, sleeps):
        with pytest.raises(TmdbError, match="HTTP 404") as caught:
            await client.details("movie", 424242)
    assert caught.value.status == 404
    assert sleeps == []


def test_a_token_is_required() -> None:
    with pytest.raises(ValueError, match="token"):
        TmdbClient("http://127.0.0.1:1", "")


# --- details cache ------------------------------------------------------------------


@pytest.fixture
async def details_cache(redis_url: str) -> AsyncIterator[RedisDetailsCache]:
    """Yield a details cache under a key prefix of its own; delete its keys afterwards."""
    prefix = f"test:{uuid.uuid4().hex[:10]}:tmdb:details"
    async with RedisDetailsCache(redis_url, ttl_s=60, prefix=prefix) as cache:
        yield cache
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_details_are_cached_in_redis_across_cycles(
    details_cache: RedisDetailsCache, redis_url: str
) -> None:
    fake = FakeTmdb(page_size=10)
    async with tmdb(fake, cache=details_cache) as (client, _):
        first = await TmdbSource(client).observe(AT)
        assert fake.details_requests() == len(MOVIES) + len(SHOWS)
        second = await TmdbSource(client).observe(AT)
        assert fake.details_requests() == len(MOVIES) + len(SHOWS)  # no refetch

    assert [e.title for e in second] == [e.title for e in first]
    redis = Redis.from_url(redis_url)
    try:
        ttl = await redis.ttl(details_cache.key("movie", 9101))
    finally:
        await redis.aclose()
    assert 0 < ttl <= 60


async def test_losing_redis_loses_speed_not_data(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeTmdb()
    caplog.set_level(logging.WARNING, logger="trendkit.hotcache")
    async with (
        RedisDetailsCache(f"redis://127.0.0.1:{port}/0", socket_timeout_s=0.5) as cache,
        tmdb(fake, cache=cache) as (client, _),
    ):
        details = await client.details("movie", 9101)
        again = await client.details("movie", 9101)
    assert details == again
    assert details.display_name == "Harbour of Glass"
    assert fake.requests["/movie/9101"] == 2
    assert "tmdb:details: hot cache unavailable" in caplog.text


# --- rate limit ---------------------------------------------------------------------


class FakeClock:
    """A clock that only moves when the limiter sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_the_rate_limiter_spaces_requests_after_a_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, burst=2, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(6):
        await bucket.acquire()
        starts.append(clock.now - 100.0)
    assert starts == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1.0])


async def test_the_rate_limiter_refills_while_idle() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await bucket.acquire()
    clock.now += 10  # a long pause refills only up to the burst
    for _ in range(3):
        await bucket.acquire()
    assert clock.sleeps == []
    await bucket.acquire()
    assert clock.sleeps == pytest.approx([0.1])


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.1, max_value=500),
    burst=st.integers(min_value=1, max_value=50),
    idle=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=40),
)
def test_the_rate_limiter_never_exceeds_rate_plus_burst(
    rate: float, burst: int, idle: list[float]
) -> None:
    async def run() -> list[float]:
        clock = FakeClock()
        bucket = TokenBucket(rate, burst=burst, clock=clock, sleep=clock.sleep)
        starts = []
        for pause in idle:
            clock.now += pause
            await bucket.acquire()
            starts.append(clock.now)
        return starts

    starts = asyncio.run(asyncio.wait_for(run(), timeout=5))
    # Any window [a, b] holds at most burst + rate * (b - a) requests.
    for i, a in enumerate(starts):
        for j in range(i, len(starts)):
            assert j - i + 1 <= burst + rate * (starts[j] - a) + 1e-6


async def test_the_client_takes_a_token_before_every_request() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, burst=1, clock=clock, sleep=clock.sleep)
    fake = FakeTmdb(page_size=1)
    async with tmdb(fake, limiter=bucket) as (client, _):
        await client.popular("movie", pages=3)
    assert fake.requests["/movie/popular"] == 3
    assert clock.sleeps == pytest.approx([0.5, 0.5])
