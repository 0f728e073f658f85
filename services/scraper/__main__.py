"""Entry point: ``python -m services.scraper`` (sources → titles.raw)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from faststream.asgi import AsgiFastStream

from services.scraper.fetch import PoliteFetcher
from services.scraper.metrics import ScrapeMetrics
from services.scraper.settings import ScraperSettings
from services.scraper.sources import run_cycle, run_replay, run_scheduled
from trendkit.objectstore import open_object_store
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "scraper"
log = logging.getLogger(SERVICE)


def create_app(settings: ScraperSettings) -> AsgiFastStream:
    """Wire the scraper: a producer-only service whose sources run in the background."""
    ctx = ServiceContext(SERVICE, settings)
    scrape_metrics = ScrapeMetrics(ctx.registry)

    @asynccontextmanager
    async def sources() -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if settings.replay_file:

            async def replay_when_connected() -> None:
                await run_replay(ctx.publisher, ctx.db, settings, ctx.metrics)

            tasks.append(asyncio.create_task(replay_when_connected(), name="replay"))
        store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
        fetcher = PoliteFetcher(list(settings.html_sources.values()))
        if settings.tmdb_api_token:
            cycle = partial(run_cycle, settings, "tmdb", fetcher, ctx.db, store, ctx.publisher)
            tasks.append(
                asyncio.create_task(
                    run_scheduled("tmdb", settings.tmdb_interval_s, cycle, metrics=scrape_metrics),
                    name="tmdb",
                )
            )
        # HTML sources run only when the operator lists them (off by default).
        for name in settings.html_sources:
            cycle = partial(run_cycle, settings, name, fetcher, ctx.db, store, ctx.publisher)
            tasks.append(
                asyncio.create_task(
                    run_scheduled(name, settings.html_interval_s, cycle, metrics=scrape_metrics),
                    name=name,
                )
            )
        for task in tasks:
            task.add_done_callback(_report_crash)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await fetcher.aclose()
            await store.close()

    return ctx.app(extra=sources)


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("source %s stopped", task.get_name(), exc_info=task.exception())


def main() -> None:
    """Run the scraper until stopped."""
    settings = ScraperSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
