"""Thin handler: fold the batch into the board, store the published scores, emit them."""

from __future__ import annotations

from services.scorer.scoring import TrendBoard
from trendkit.contracts import TRENDS_SCORED, TitleClassified, TrendScored
from trendkit.db.database import Database
from trendkit.db.models import CurrentScore, TrendScoreRow
from trendkit.db.upsert import copy_upsert
from trendkit.stage import Outbound, Outcome


def _history_row(out: Outbound) -> dict[str, object]:
    s = out.event
    assert isinstance(s, TrendScored)
    return {
        "event_id": s.event_id,
        "title_id": s.title_id,
        "window": s.window,
        "score": s.score,
        "rank": s.rank,
        "previous_rank": s.previous_rank,
        "components": s.components.model_dump_json(),
        "explanation": s.explanation,
        "scored_at": s.observed_at,
    }


def _current_row(out: Outbound) -> dict[str, object]:
    s = out.event
    assert isinstance(s, TrendScored)
    return {
        "title_id": s.title_id,
        "window": s.window,
        "score": s.score,
        "rank": s.rank,
        "components": s.components.model_dump_json(),
        "explanation": s.explanation,
        "payload": out.value.decode(),  # the very JSON that is published
        "scored_at": s.observed_at,
    }


class ScoreTitles:
    """Score a batch of classified titles."""

    def __init__(self, db: Database, board: TrendBoard) -> None:
        self.db = db
        self.board = board

    async def __call__(self, batch: list[TitleClassified]) -> Outcome:
        """Handle one batch from ``titles.classified``."""
        scored = [Outbound(TRENDS_SCORED, s) for s in self.board.apply(batch)]
        undo = self.board.last_undo

        async def persist() -> None:
            if not scored:
                return
            async with self.db.transaction() as session:
                # COPY-staged: the scorer writes several rows per input, the most of any stage.
                await copy_upsert(
                    session, TrendScoreRow, [_history_row(s) for s in scored], conflict=["event_id"]
                )
                await copy_upsert(
                    session,
                    CurrentScore,
                    [_current_row(s) for s in scored],
                    conflict=["title_id", "window"],
                    update=["score", "rank", "components", "explanation", "payload", "scored_at"],
                    only_if_newer="scored_at",
                )

        return Outcome(scored, persist, on_failure=lambda: self.board.rollback(undo))
