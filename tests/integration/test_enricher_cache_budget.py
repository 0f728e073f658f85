"""The enricher's cache (Redis hot, Postgres durable) and daily budget, on the real stack."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.enricher.budget import DailyBudget, UsageLedger
from services.enricher.cache import EnrichmentCache, Key
from services.enricher.domain import Usage
from services.enricher.metrics import EnricherMetrics
from trendkit.contracts import Enrichment, Provenance
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow, LlmUsage
from trendkit.hotcache import RedisModelCache
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(settings: CommonSettings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, service="test-enricher")
    await database.open()
    yield database
    await database.close()


def enrichment(summary: str = "A keeper finds letters.") -> Enrichment:
    return Enrichment(
        summary=summary,
        vibe_tags=["cozy", "romantic", "slow-burn"],
        genres=["Drama", "Romance"],
        hype_score=61,
        hype_reason="#3 on tmdb_trending_day",
        provenance=Provenance(provider="openai", model="m", version="p1"),
    )


def hot_cache(redis_url: str, prefix: str) -> RedisModelCache[Enrichment]:
    return RedisModelCache(redis_url, Enrichment, namespace=f"{prefix}enrich", ttl_s=60)


def hits(metrics: EnricherMetrics, tier: str) -> float:
    return (
        metrics.registry.get_sample_value("trending_enrich_cache_hits_total", {"tier": tier}) or 0
    )


async def test_the_cache_answers_from_redis_then_from_postgres_when_redis_lost_it(
    settings: CommonSettings, db: Database
) -> None:
    metrics = EnricherMetrics()
    key: Key = ("hash1", "p1", "m")
    async with hot_cache(settings.redis_url, settings.topic_prefix) as hot:
        cache = EnrichmentCache(db, hot, metrics)
        await cache.put_many({key: enrichment()}, {key: "movie:1"})
        assert await cache.get_many([key, ("other", "p1", "m")]) == {key: enrichment()}
        assert hits(metrics, "redis") == 1

        await hot._redis.delete(hot.redis_key(":".join(key)))  # Redis forgot it
        assert await cache.get_many([key]) == {key: enrichment()}
        assert hits(metrics, "postgres") == 1
        # ...and Postgres refilled Redis, so the next lookup is hot again.
        assert await cache.get_many([key]) == {key: enrichment()}
        assert hits(metrics, "redis") == 2


async def test_losing_redis_loses_speed_not_answers(settings: CommonSettings, db: Database) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    key: Key = ("hash2", "p1", "m")
    metrics = EnricherMetrics()
    async with RedisModelCache(
        f"redis://127.0.0.1:{dead_port}/0",
        Enrichment,
        namespace="x",
        ttl_s=60,
        socket_timeout_s=0.5,
    ) as dead:
        cache = EnrichmentCache(db, dead, metrics)
        await cache.put_many({key: enrichment()}, {key: "movie:2"})
        assert await cache.get_many([key]) == {key: enrichment()}
    assert hits(metrics, "postgres") == 1


async def test_storing_an_answer_twice_keeps_one_row(
    settings: CommonSettings, db: Database
) -> None:
    key: Key = ("hash3", "p1", "m")
    cache = EnrichmentCache(db, None, EnricherMetrics())
    await asyncio.gather(
        cache.put_many({key: enrichment()}, {key: "movie:3"}),
        cache.put_many({key: enrichment("another answer")}, {key: "movie:3"}),
    )
    async with db.transaction() as session:
        rows = await session.scalar(select(func.count()).select_from(EnrichmentRow))
    assert rows == 1


def usage(cost: float) -> Usage:
    return Usage(model="m", prompt_tokens=1000, completion_tokens=200, cost_usd=cost)


async def test_the_budget_counts_every_replicas_spend_and_starts_afresh_each_day(
    db: Database,
) -> None:
    day = datetime(2026, 11, 26, 12, tzinfo=UTC)
    now = [day]
    ledger = UsageLedger(db)
    ours = DailyBudget(ledger, limit_usd=1.0, refresh_s=0, clock=lambda: now[0])
    theirs = DailyBudget(ledger, limit_usd=1.0, refresh_s=0, clock=lambda: now[0])

    await asyncio.gather(*(ours.record(usage(0.125)) for _ in range(4)))
    assert not await ours.exhausted()
    await asyncio.gather(*(theirs.record(usage(0.125)) for _ in range(4)))
    assert await ours.exhausted()  # the other replica's spend counts
    assert await ledger.spent(day.date()) == pytest.approx(1.0)

    now[0] = day + timedelta(days=1)
    assert not await ours.exhausted()  # a new UTC day


async def test_the_ledger_sums_tokens_per_day_and_model(db: Database) -> None:
    ledger = UsageLedger(db)
    day = datetime(2026, 11, 26, tzinfo=UTC).date()
    await asyncio.gather(*(ledger.add(day, usage(0.01)) for _ in range(20)))
    async with db.transaction() as session:
        row = (await session.scalars(select(LlmUsage))).one()
    assert (row.requests, row.prompt_tokens, row.completion_tokens) == (20, 20_000, 4_000)
    assert row.cost_usd == pytest.approx(0.2)
