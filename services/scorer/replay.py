"""Recompute scores from the scorer's archive, exactly as live scoring made them.

The archive holds every input the scorer applied (observations and clock ticks, late
arrivals flagged apart), so applying them again in the same order to a fresh board gives
the same scores and the same publishing decisions, whatever the batches, restarts and
delays of the live run were. A replay starts from the archive's first input (the state at
``since`` depends on what came before) and keeps the outputs from ``since`` on; it stops
at ``until`` or where the live watermark stands, whichever is earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from services.scorer.archive import ScoreArchive
from services.scorer.board import Input, TrendBoard
from services.scorer.scoring import ScoringParams
from trendkit.contracts import TitleScored
from trendkit.db.models import TrendScoreRow


@dataclass
class ReplayResult:
    """What a replay recomputed, beside what live scoring stored for the same span."""

    since: datetime
    until: datetime | None
    inputs: int = 0
    outputs: list[TitleScored] = field(default_factory=list)
    board: TrendBoard | None = None
    stored: set[str] = field(default_factory=set)

    @property
    def recomputed(self) -> set[str]:
        """Return the ids of the recomputed scores (an id fixes title, window, time, score)."""
        return {w.event_id for o in self.outputs for w in o.windows}

    @property
    def missing(self) -> set[str]:
        """Return updates live scoring stored that the replay did not make."""
        return self.stored - self.recomputed

    @property
    def extra(self) -> set[str]:
        """Return updates the replay made that live scoring did not store."""
        return self.recomputed - self.stored

    @property
    def matches(self) -> bool:
        """True when the replay made exactly the updates live scoring stored."""
        return not self.missing and not self.extra


async def replay(
    archive: ScoreArchive,
    params: ScoringParams,
    since: datetime,
    until: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Apply the archive's inputs up to ``until`` to a fresh board; keep outputs from ``since``."""
    released = await archive.released_before()
    stop = min(t for t in (until, released) if t is not None) if until or released else None
    result = ReplayResult(since=since, until=stop, board=TrendBoard(params=params))
    assert result.board is not None
    instant: list[Input] = []

    def apply() -> None:
        assert result.board is not None
        outputs = result.board.step(instant)
        if instant[0].observed_at >= since:
            result.outputs.extend(outputs)
        before, result.inputs = result.inputs, result.inputs + len(instant)
        if progress is not None and before // 1000 != result.inputs // 1000:
            progress(result.inputs)
        instant.clear()

    async for _, item in archive.inputs(until=stop):
        if instant and item.observed_at != instant[0].observed_at:
            apply()
        instant.append(item)
    if instant:
        apply()
    query = select(TrendScoreRow.event_id).where(TrendScoreRow.scored_at >= since)
    if stop is not None:
        query = query.where(TrendScoreRow.scored_at < stop)
    async with archive.db.transaction() as session:
        result.stored = set((await session.scalars(query)).all())
    return result
