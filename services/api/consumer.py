"""The api's side of the pipeline: load the snapshot from Postgres, follow trends.scored."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from services.api.hub import TrendHub
from services.api.queries import current_items
from trendkit.contracts import WINDOWS, TitleScored, TrendScored
from trendkit.db.database import Database
from trendkit.db.models import CurrentScore
from trendkit.stage import Outbound

log = logging.getLogger(__name__)


async def load_current_scores(db: Database, hub: TrendHub, *, per_window: int) -> int:
    """Seed the hub with each window's best titles as the scorer last stored them."""
    items: list[TrendScored] = []
    async with db.transaction() as session:
        for window in WINDOWS:
            items += await current_items(
                session,
                CurrentScore.window == window,
                order_by=[CurrentScore.rank],
                limit=per_window,
            )
    hub.load_snapshot(items)
    log.info("loaded %d current scores from Postgres", len(items))
    return len(items)


class FollowScores:
    """Stage handler: every scored event goes to the hub; nothing is published onward."""

    def __init__(self, hub: TrendHub) -> None:
        self.hub = hub

    async def __call__(self, batch: list[TitleScored]) -> Sequence[Outbound]:
        """Apply a batch from ``trends.scored``: each event's windows, as ranking items."""
        self.hub.apply([item for event in batch for item in event.items()])
        return ()
