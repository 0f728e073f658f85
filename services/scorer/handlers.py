"""Thin handler: fold the batch into the board, store the published scores, emit them."""

from __future__ import annotations

from collections.abc import Sequence

from services.scorer.scoring import TrendBoard
from trendkit.contracts import TRENDS_SCORED, TitleClassified, TrendScored
from trendkit.db.database import Database
from trendkit.db.models import CurrentScore, TrendScoreRow
from trendkit.db.upsert import insert_ignore, upsert
from trendkit.stage import Outbound


def _history_row(s: TrendScored) -> dict[str, object]:
    return {
        "event_id": s.event_id,
        "title_id": s.title_id,
        "window": s.window,
        "score": s.score,
        "rank": s.rank,
        "previous_rank": s.previous_rank,
        "components": s.components.model_dump(mode="json"),
        "explanation": s.explanation,
        "scored_at": s.observed_at,
    }


def _current_row(s: TrendScored) -> dict[str, object]:
    return {
        "title_id": s.title_id,
        "window": s.window,
        "score": s.score,
        "rank": s.rank,
        "components": s.components.model_dump(mode="json"),
        "explanation": s.explanation,
        "payload": s.model_dump(mode="json"),
        "scored_at": s.observed_at,
    }


class ScoreTitles:
    """Score a batch of classified titles."""

    def __init__(self, db: Database, board: TrendBoard) -> None:
        self.db = db
        self.board = board

    async def __call__(self, batch: list[TitleClassified]) -> Sequence[Outbound]:
        """Handle one batch from ``titles.classified``."""
        scored = self.board.apply(batch)
        if scored:
            async with self.db.transaction() as session:
                await insert_ignore(session, TrendScoreRow, [_history_row(s) for s in scored])
                await upsert(
                    session,
                    CurrentScore,
                    [_current_row(s) for s in scored],
                    conflict=["title_id", "window"],
                    update=["score", "rank", "components", "explanation", "payload", "scored_at"],
                    only_if_newer="scored_at",
                )
        return [Outbound(TRENDS_SCORED, s) for s in scored]
