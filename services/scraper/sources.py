"""Run the enabled sources and push what they observe into the pipeline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from services.scraper.cycle import Observed, observe_html, observe_tmdb, store_and_publish
from services.scraper.fetch import PoliteFetcher
from services.scraper.metrics import ScrapeMetrics
from services.scraper.parsers.base import LayoutError
from services.scraper.replay import Replay
from services.scraper.settings import ScraperSettings, tmdb_list_spec
from services.scraper.store import record_observations
from services.scraper.tmdb import RedisDetailsCache, TmdbClient, TmdbSource
from trendkit.contracts import TITLES_RAW, now_utc
from trendkit.db.database import Database
from trendkit.objectstore import ObjectStore
from trendkit.publish import BatchPublisher, Outbound
from trendkit.stage import StageMetrics

log = logging.getLogger(__name__)


async def run_replay(
    publisher: BatchPublisher, db: Database, settings: ScraperSettings, metrics: StageMetrics
) -> None:
    """Play the configured timeline into titles.raw until it ends (never, when looping)."""
    assert settings.replay_file is not None
    replay = Replay.from_file(
        settings.replay_file, speed=settings.replay_speed, loop=settings.replay_loop
    )
    log.info(
        "replaying %s (%s of timeline) at %gx%s",
        settings.replay_file.name,
        replay.span,
        settings.replay_speed,
        ", looping" if settings.replay_loop else "",
    )
    sent = 0
    async for batch in replay.play(start_at=now_utc()):
        # Store first: a crash between the two steps republishes the same event ids,
        # which every consumer treats as duplicates.
        await record_observations(db, batch)
        await publisher.publish([Outbound(TITLES_RAW, o) for o in batch], metrics=metrics)
        sent += len(batch)
        log.debug("published %d observations (%d in all)", len(batch), sent)
    log.info("replay finished after %d observations", sent)


async def run_scheduled(
    name: str,
    interval_s: float,
    cycle: Callable[[], Awaitable[int]],
    *,
    metrics: ScrapeMetrics | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run a source's cycle every ``interval_s``; a failed cycle is logged and retried."""
    failures = 0
    if metrics is not None:
        metrics.declare(name)
    while True:
        try:
            published = await cycle()
            failures = 0
            log.info("%s: cycle published %d observations", name, published)
            if metrics is not None:
                metrics.cycles.labels(name, "ok").inc()
                metrics.observations.labels(name).inc(published)
                metrics.last_success.labels(name).set(time.time())
            await sleep(interval_s)
        except Exception as exc:
            if metrics is not None:
                outcome = "parse_error" if isinstance(exc, LayoutError) else "failed"
                metrics.cycles.labels(name, outcome).inc()
            failures += 1
            # Back off on repeated failures, but never past the normal interval.
            delay = min(interval_s, 5.0 * 2 ** min(failures, 6))
            log.exception(
                "%s: cycle failed (%d in a row); next try in %.0f s", name, failures, delay
            )
            await sleep(delay)


async def observe_source(
    settings: ScraperSettings, source: str, observed_at: datetime, fetcher: PoliteFetcher
) -> Observed:
    """Observe one configured source: ``tmdb`` or a chart page in SCRAPER_HTML_SOURCES."""
    if source != "tmdb":
        return await observe_html(source, settings.html_sources[source], fetcher, observed_at)
    assert settings.tmdb_api_token is not None
    bodies: list[bytes] = []  # the API's answers, for the raw archive
    # Details are cached in Redis, so a cycle refetches only titles it has not seen lately.
    async with (
        RedisDetailsCache(settings.redis_url) as cache,
        TmdbClient(
            settings.tmdb_base_url,
            settings.tmdb_api_token,
            cache=cache,
            on_body=lambda _path, body: bodies.append(body),
        ) as client,
    ):
        lists = [tmdb_list_spec(t) for t in settings.tmdb_lists]
        source_ = TmdbSource(client, lists=lists, pages=settings.tmdb_pages)
        return await observe_tmdb(source_, observed_at, bodies)


async def run_cycle(
    settings: ScraperSettings,
    source: str,
    fetcher: PoliteFetcher,
    db: Database,
    store: ObjectStore,
    publisher: BatchPublisher,
) -> int:
    """Run one cycle of a source; return how many observations it published."""
    observed_at = now_utc()
    observed = await observe_source(settings, source, observed_at, fetcher)
    published = await store_and_publish(
        observed, source=source, db=db, store=store, publisher=publisher, observed_at=observed_at
    )
    return len(published)
