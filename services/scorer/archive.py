"""The scorer's Postgres side: what it stores per step, and what it rebuilds from.

Per step, in one transaction, after the scores were published: the inputs (archive), the
published scores (history and current), and the watermark. A crash before that commit
leaves the inputs unconsumed and nothing recorded: they come again, and are scored again
to the same outputs (the same event ids). A crash after it leaves them recorded, so on
redelivery they are recognised and change nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select

from services.scorer.board import ClockTick, Input, Published, TrendBoard
from services.scorer.engine import Archived, ClockPolicy, Scorer, Step
from services.scorer.scoring import ScoringParams
from trendkit.contracts import (
    TitleClassified,
    TitleDescription,
    TitleScored,
    Window,
    WindowScore,
)
from trendkit.db.database import Database
from trendkit.db.models import (
    SCORE_COLUMNS,
    CurrentScore,
    ScorerInput,
    ScorerState,
    TitleCard,
    TrendScoreRow,
)
from trendkit.db.upsert import Executor, copy_upsert, upsert

READ_CHUNK = 5_000


def _input_row(a: Archived, received: Mapping[str, str]) -> dict[str, object]:
    item = a.item
    payload = None
    if not isinstance(item, ClockTick):
        payload = received.get(item.event_id) or item.model_dump_json()
    return {
        "event_id": item.event_id,
        "title_id": None if isinstance(item, ClockTick) else item.title_id,
        "partition": a.partition,
        "observed_at": item.observed_at,
        "late": a.late,
        "payload": payload,
    }


def history_row(event: TitleScored, s: WindowScore) -> dict[str, object]:
    """Return one window of a published event as its ``trend_scores`` row."""
    return {
        "event_id": s.event_id,
        "title_id": event.title_id,
        "window": s.window,
        "score": s.score,
        "rank": s.rank,
        "previous_rank": s.previous_rank,
        "components": s.components.model_dump_json(),
        "explanation": s.explanation,
        "scored_at": event.observed_at,
    }


_DESCRIPTION = set(TitleDescription.model_fields)
_CURRENT_KEY = ("title_id", "window")


def current_row(history: Mapping[str, object]) -> dict[str, object]:
    """Return a window's ``current_scores`` row: its history row's score columns."""
    return {column: history[column] for column in SCORE_COLUMNS}


def card_row(event: TitleScored) -> dict[str, object]:
    """Return an event's ``title_cards`` row: what describes the title, as JSON text."""
    return {
        "title_id": event.title_id,
        "description": event.model_dump_json(include=_DESCRIPTION),
        "scored_at": event.observed_at,
    }


async def write_scores(connection: Executor, events: Sequence[TitleScored]) -> None:
    """Write published events: history rows, each window's current row, each title's card.

    Events come in the order they were published: per key, the last one wins, and a row
    is replaced only by a newer one (a redelivered older batch changes nothing).
    """
    history = [history_row(event, s) for event in events for s in event.windows]
    await copy_upsert(connection, TrendScoreRow, history, conflict=["event_id"])
    await copy_upsert(
        connection,
        CurrentScore,
        [current_row(row) for row in history],
        conflict=_CURRENT_KEY,
        update=[c for c in SCORE_COLUMNS if c not in _CURRENT_KEY],
        only_if_newer="scored_at",
    )
    # One card per title: its last event's (a title scored at several instants of the
    # batch is described by each; only the last one's description is kept, so only it is
    # encoded).
    latest = {event.title_id: event for event in events}
    await copy_upsert(
        connection,
        TitleCard,
        [card_row(event) for event in latest.values()],
        conflict=["title_id"],
        update=["description", "scored_at"],
        only_if_newer="scored_at",
    )


class ScoreArchive:
    """Reads and writes the scorer's tables for one scorer group."""

    def __init__(self, db: Database, scorer: str) -> None:
        self.db = db
        self.scorer = scorer

    async def store(
        self,
        step: Step,
        received: Mapping[str, str] | None = None,
        *,
        before_commit: Awaitable[None] | None = None,
    ) -> None:
        """Record a step: its inputs (as ``received``, when given), its scores, the watermark.

        ``before_commit``: awaited after the writes, before the commit (the scores'
        publication): if it fails, nothing is recorded.
        """
        async with self.db.driver_transaction() as connection:
            if step.archive:
                # Payloads are JSON text already: COPY takes them as they are.
                rows = [_input_row(a, received or {}) for a in step.archive]
                await copy_upsert(connection, ScorerInput, rows, conflict=["event_id"])
            if step.outputs:
                await write_scores(connection, step.outputs)
            await upsert(
                connection,
                ScorerState,
                [{"scorer": self.scorer, "released_before": step.released_before}],
                conflict=["scorer"],
                update=["released_before", "updated_at"],
            )
            if before_commit is not None:
                await before_commit

    async def released_before(self) -> datetime | None:
        """Return the stored watermark (None before the first step)."""
        async with self.db.transaction() as session:
            return await session.scalar(
                select(ScorerState.released_before).where(ScorerState.scorer == self.scorer)
            )

    async def inputs(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[tuple[int, Input]]:
        """Yield archived inputs that were not late, in the order they are applied."""
        query = (
            select(ScorerInput.partition, ScorerInput.event_id, ScorerInput.observed_at)
            .add_columns(ScorerInput.title_id, ScorerInput.payload)
            .where(ScorerInput.late.is_(False))
            .order_by(ScorerInput.observed_at, ScorerInput.event_id)
            .execution_options(yield_per=READ_CHUNK)
        )
        if since is not None:
            query = query.where(ScorerInput.observed_at >= since)
        if until is not None:
            query = query.where(ScorerInput.observed_at < until)
        async with self.db.transaction() as session:
            result = await session.stream(query)
            async for partition, _event_id, observed_at, title_id, payload in result:
                if title_id is None:
                    yield partition, ClockTick(observed_at)
                else:
                    yield partition, TitleClassified.model_validate(payload)

    async def published(self) -> dict[tuple[Window, str], Published]:
        """Return the last published score of every title in every window."""
        async with self.db.transaction() as session:
            c = CurrentScore
            rows = await session.execute(select(c.window, c.title_id, c.score, c.rank))
            return {(w, t): Published(score=s, rank=r) for w, t, s, r in rows}  # type: ignore[misc]

    async def latest_per_partition(self) -> dict[int, datetime]:
        """Return the latest event time archived from each partition."""
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(ScorerInput.partition, func.max(ScorerInput.observed_at))
                .where(ScorerInput.late.is_(False), ScorerInput.partition >= 0)
                .group_by(ScorerInput.partition)
            )
            return dict(rows.tuples().all())

    async def last_applied_at(self, released_before: datetime) -> datetime | None:
        """Return the event time of the last input applied before the watermark."""
        async with self.db.transaction() as session:
            return await session.scalar(
                select(func.max(ScorerInput.observed_at)).where(
                    ScorerInput.late.is_(False), ScorerInput.observed_at < released_before
                )
            )

    async def load(self, params: ScoringParams, policy: ClockPolicy, wall: float) -> Scorer:
        """Rebuild the scorer as it was after the last stored step."""
        released_before = await self.released_before()
        since = None
        if released_before is not None:
            last = await self.last_applied_at(released_before)
            if last is not None:
                since = TrendBoard(params=params).restore_horizon(last)
        applied: list[Input] = []
        waiting: list[tuple[int, TitleClassified]] = []
        async for partition, item in self.inputs(since=since):
            if released_before is not None and item.observed_at < released_before:
                applied.append(item)
            elif isinstance(item, TitleClassified):
                waiting.append((partition, item))
        return Scorer.restore(
            params,
            policy,
            released_before=released_before,
            applied=applied,
            waiting=waiting,
            latest=await self.latest_per_partition(),
            published=await self.published(),
            wall=wall,
        )
