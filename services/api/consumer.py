"""The api's side of the pipeline: load the snapshot from Postgres, follow trends.scored."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from services.api.hub import TrendHub
from trendkit.contracts import WINDOWS, TrendScored
from trendkit.db.database import Database
from trendkit.db.models import CurrentScore
from trendkit.stage import Outbound

log = logging.getLogger(__name__)


async def load_current_scores(db: Database, hub: TrendHub, *, per_window: int) -> int:
    """Seed the hub with each window's best titles as the scorer last stored them."""
    items: list[TrendScored] = []
    async with db.transaction() as session:
        for window in WINDOWS:
            rows = await session.scalars(
                select(CurrentScore.payload)
                .where(CurrentScore.window == window)
                .order_by(CurrentScore.rank)
                .limit(per_window)
            )
            items.extend(TrendScored.model_validate(payload) for payload in rows)
    hub.load_snapshot(items)
    log.info("loaded %d current scores from Postgres", len(items))
    return len(items)


class FollowScores:
    """Stage handler: every scored event goes to the hub; nothing is published onward."""

    def __init__(self, hub: TrendHub) -> None:
        self.hub = hub

    async def __call__(self, batch: list[TrendScored]) -> Sequence[Outbound]:
        """Apply a batch from ``trends.scored``."""
        self.hub.apply(batch)
        return ()
