"""Entry point: ``python -m services.scraper`` (sources → titles.raw)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.asgi import AsgiFastStream

from services.scraper.settings import ScraperSettings
from services.scraper.sources import run_replay
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "scraper"
log = logging.getLogger(SERVICE)


def create_app(settings: ScraperSettings) -> AsgiFastStream:
    """Wire the scraper: a producer-only service whose sources run in the background."""
    ctx = ServiceContext(SERVICE, settings)

    @asynccontextmanager
    async def sources() -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if settings.replay_file:

            async def replay_when_connected() -> None:
                await run_replay(ctx.publisher, ctx.db, settings, ctx.metrics)

            tasks.append(asyncio.create_task(replay_when_connected(), name="replay"))
            tasks[-1].add_done_callback(_report_crash)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

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
