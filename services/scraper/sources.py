"""Run the enabled sources and push what they observe into the pipeline."""

from __future__ import annotations

import logging

from services.scraper.replay import Replay
from services.scraper.settings import ScraperSettings
from services.scraper.store import record_observations
from trendkit.contracts import TITLES_RAW, now_utc
from trendkit.db.database import Database
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
