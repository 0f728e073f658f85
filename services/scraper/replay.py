"""Replay a timeline as if its sources were showing it live, for the demo and the tests.

Time mapping
------------
The timeline *starts* at ``start_at`` and runs ``speed`` times faster than the wall clock.
An entry of loop ``k`` (0 for the first pass) is due, and observed, at::

    observed_at = start_at + (entry.at - first_at + k * period) / speed

so ``speed=1`` is a plain shift of the whole timeline to begin at ``start_at``, and
``speed=3600`` plays one timeline hour per wall-clock second. ``observed_at`` is event
time, "when the source showed it"; for a replayed source that is when we publish it, so
event time is compressed along with the playback. The alternatives were worse: keeping
timeline-scale event times would put observations hours or, when looping, years into the
future (stale checks, "observed in 3 h" in the UI, lag figures all wrong), and the next
run, starting at now, would then lie *before* the last one's events, so monotonic upserts
would drop it as stale; anchoring the *end* of the timeline at now would make everything
due at once. Consumers with time constants (the scorer's windows and decay) see the
compressed time; a demo that wants them to behave as over a real 48 hours scales them by
the same ``speed``. A backfill is still possible: pass a ``start_at`` in the past and the
entries already due are yielded at once, in order.

Batches and event ids
---------------------
One batch per distinct timeline instant (every source that shares it), yielded when due;
when behind (a past ``start_at``, a slow consumer) due batches follow each other without
sleeping. Batches and their contents therefore depend only on the timeline,
``start_at`` and ``speed``, never on scheduling jitter.

``event_id`` is derived from what was observed: source, title id, ``observed_at`` and
rank. Replaying the same timeline with the same ``start_at`` and ``speed`` (a restarted
scraper that kept its anchor) yields the same ids, which downstream upserts absorb; a
replay anchored elsewhere is a new run whose observations are new facts with new ids, so
a second demo against the same database is not swallowed by deduplication. The anchor
identifies a run, so there is no separate run id. Looping shifts each pass by ``period``
(the timeline's span plus ``loop_gap``), so ``observed_at`` and the ids keep changing.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.scraper.timeline import TimelineEntry, read_timeline
from trendkit.contracts import (
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    now_utc,
)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

REPLAY_PROVIDER = "replay"
_DEFAULT_LOOP_GAP = timedelta(hours=1)  # for a timeline with a single instant


def observation_event_id(*, source: str, title_id: str, observed_at: datetime, rank: int) -> str:
    """Return the event id of one observation: the same fact always gets the same id."""
    when = observed_at.astimezone(UTC).isoformat()
    return derive_event_id(source, title_id, when, str(rank))


def to_observed(
    entry: TimelineEntry, *, observed_at: datetime, scraped_by: Provenance
) -> TitleObserved:
    """Turn a timeline entry into the ``titles.raw`` event it stands for, at ``observed_at``."""
    title_id = entry.title_id
    return TitleObserved(
        event_id=observation_event_id(
            source=entry.source, title_id=title_id, observed_at=observed_at, rank=entry.rank
        ),
        title_id=title_id,
        observed_at=observed_at,
        title=TitleInfo(
            name=entry.title,
            media_type=entry.media_type,
            year=entry.year,
            overview=entry.overview,
            tmdb_id=entry.tmdb_id,
        ),
        observation=Observation(
            source=entry.source, rank=entry.rank, url=entry.url, signals=entry.signals
        ),
        scraped_by=scraped_by,
    )


def timeline_provenance(name: str, content: bytes) -> Provenance:
    """Return the provenance stamped on a replayed timeline: its file name and content hash."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    return Provenance(provider=REPLAY_PROVIDER, model=name, version=digest)


class Replay:
    """A timeline ready to be played: its entries grouped by instant, and how to pace them."""

    def __init__(
        self,
        entries: Sequence[TimelineEntry],
        *,
        scraped_by: Provenance,
        speed: float = 1.0,
        loop: bool = False,
        loop_gap: timedelta | None = None,
    ) -> None:
        if not entries:
            raise ValueError("a replay needs at least one timeline entry")
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive finite number, got {speed!r}")
        if loop_gap is not None and loop_gap <= timedelta(0):
            raise ValueError(f"loop_gap must be positive, got {loop_gap!r}")
        ordered = sorted(entries, key=lambda entry: entry.at)
        self.first_at = ordered[0].at
        self.span = ordered[-1].at - self.first_at
        self._instants = [
            (at - self.first_at, list(group))
            for at, group in itertools.groupby(ordered, key=lambda entry: entry.at)
        ]
        self.scraped_by = scraped_by
        self.speed = speed
        self.loop = loop
        self.loop_gap = loop_gap if loop_gap is not None else self._smallest_gap()

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        speed: float = 1.0,
        loop: bool = False,
        loop_gap: timedelta | None = None,
    ) -> Replay:
        """Load a timeline file; stamp its observations with the file's name and hash."""
        timeline = read_timeline(path)
        provenance = timeline_provenance(timeline.path.name, timeline.content)
        return cls(
            timeline.entries, scraped_by=provenance, speed=speed, loop=loop, loop_gap=loop_gap
        )

    def _smallest_gap(self) -> timedelta:
        # Looping restarts one snapshot interval after the end, as the source would have.
        offsets = [offset for offset, _ in self._instants]
        gaps = [later - earlier for earlier, later in itertools.pairwise(offsets)]
        return min(gaps, default=_DEFAULT_LOOP_GAP)

    @property
    def period(self) -> timedelta:
        """Return how much timeline time one pass takes before the next one starts."""
        return self.span + self.loop_gap

    def schedule(self, start_at: datetime) -> Iterator[tuple[datetime, list[TitleObserved]]]:
        """Yield (due time, observations) per instant, in order; endless when looping."""
        if start_at.tzinfo is None:
            raise ValueError("start_at must be timezone-aware")
        start_at = start_at.astimezone(UTC)
        passes = itertools.count() if self.loop else range(1)
        for k in passes:
            for offset, entries in self._instants:
                due = start_at + (offset + k * self.period) / self.speed
                yield due, [self._observed(entry, due) for entry in entries]

    def _observed(self, entry: TimelineEntry, observed_at: datetime) -> TitleObserved:
        return to_observed(entry, observed_at=observed_at, scraped_by=self.scraped_by)

    async def play(
        self,
        *,
        start_at: datetime,
        clock: Clock = now_utc,
        sleep: Sleep = asyncio.sleep,
    ) -> AsyncIterator[list[TitleObserved]]:
        """Yield each batch once the clock reaches its time, sleeping in between."""
        for due, batch in self.schedule(start_at):
            # Re-read the clock after sleeping: a timer may fire a little early.
            while (now := clock()) < due:
                await sleep((due - now).total_seconds())
            yield batch


async def replay(
    entries: Sequence[TimelineEntry],
    *,
    speed: float,
    start_at: datetime,
    scraped_by: Provenance,
    loop: bool = False,
    loop_gap: timedelta | None = None,
    clock: Clock = now_utc,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[list[TitleObserved]]:
    """Play timeline entries from ``start_at`` at ``speed``, yielding batches as they fall due."""
    player = Replay(entries, scraped_by=scraped_by, speed=speed, loop=loop, loop_gap=loop_gap)
    async for batch in player.play(start_at=start_at, clock=clock, sleep=sleep):
        yield batch
