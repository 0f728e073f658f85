"""The scorer's core: the event clock in front of the board, and what each step produced.

``accept`` takes a batch of arrivals (with their partitions), ``tick`` runs between
batches. Both return a :class:`Step`: the scores to publish, the inputs to archive (all
arrivals, late ones flagged, and any clock tick) and the watermark to store. Nothing here
touches the broker or the database (``handlers.py`` and ``archive.py`` do).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.scorer.board import ClockTick, Input, Published, TrendBoard, instants
from services.scorer.clock import EventClock
from services.scorer.scoring import ScoringParams
from trendkit.contracts import TitleClassified, TitleScored, Window

_JUST_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True)
class Archived:
    """One input as the archive keeps it."""

    partition: int
    item: Input
    late: bool = False


@dataclass
class Step:
    """What one batch or tick produced."""

    outputs: list[TitleScored] = field(default_factory=list)
    archive: list[Archived] = field(default_factory=list)
    released_before: datetime | None = None
    applied: int = 0
    late: list[TitleClassified] = field(default_factory=list)
    duplicates: int = 0

    @property
    def empty(self) -> bool:
        """True when there is nothing to publish or store."""
        return not self.outputs and not self.archive and not self.applied


@dataclass(frozen=True)
class ClockPolicy:
    """When a quiet stream still moves event time on (so scores decay without news)."""

    lateness: timedelta = timedelta(seconds=30)
    idle_s: float = 3.0
    wall_clock_ticks: bool = True
    partitions: tuple[int, ...] = ()
    """The input topic's partitions: each holds the watermark until heard from or idle."""


class Scorer:
    """Event clock + trend board: arrivals in, ordered inputs applied, scores out."""

    def __init__(self, params: ScoringParams, policy: ClockPolicy) -> None:
        self.params = params
        self.policy = policy
        self.board = TrendBoard(params=params)
        self.clock = EventClock(policy.lateness, policy.idle_s)
        self._expecting = True

    def _expect(self, wall: float) -> None:
        if self._expecting:
            self.clock.expect(self.policy.partitions, wall)
            self._expecting = False

    def accept(self, arrivals: Sequence[tuple[int, TitleClassified]], wall: float) -> Step:
        """Take a batch of (partition, event) in; apply what the watermark releases."""
        work = self.accepting(arrivals, wall)
        try:
            while True:
                next(work)
        except StopIteration as done:
            step: Step = done.value
        return step

    def accepting(
        self, arrivals: Sequence[tuple[int, TitleClassified]], wall: float
    ) -> Generator[None, None, Step]:
        """Do what :meth:`accept` does, pausing after each instant applied; return the step.

        A batch of thousands of titles is a fraction of a second of CPU: run in one go,
        it would keep the event loop from everything else, such as the previous batch's
        writes, which then waited for it (``trendkit.stage.cooperatively`` runs this).
        """
        self._expect(wall)
        admission = self.clock.admit(arrivals, wall)
        step = Step(
            archive=[Archived(p, e) for p, e in admission.waiting]
            + [Archived(p, e, late=True) for p, e in admission.late],
            late=[e for _, e in admission.late],
            duplicates=admission.duplicates,
        )
        yield from self._applying(self.clock.release(wall), step)
        return step

    def tick(self, wall: float, wall_time: datetime, silent_for: float | None = None) -> Step:
        """Between batches: release what idle partitions held back; move a quiet clock on.

        A wall-clock tick is applied only when nothing waits, no partition delivered
        anything for one live decay step (a tenth of the live half-life: 18 minutes by
        default, so a pause between scrapes or a slow producer is not mistaken for
        silence, which would make its next observations late), and event time is live
        (within the longest horizon of the wall clock, not a replay of old data). It is
        archived like an input, so replays see it too.

        Silence is the shorter of the time since any partition delivered something and
        ``silent_for``, the time the consumer has listened in vain (zero while records
        wait in the broker): a scorer slowed down by its own work is not a quiet stream.
        """
        self._expect(wall)
        step = Step()
        quiet = self.clock.quiet_for(wall)
        if silent_for is not None:
            quiet = min(quiet, silent_for)
        for _ in self._applying(self.clock.release(wall, quiet), step):
            pass
        board_now = self.board.now
        live_h = self.params.half_life_hours["live"] * self.params.decay_tick
        if (
            self.policy.wall_clock_ticks
            and board_now is not None
            and self.clock.waiting == 0
            and quiet >= live_h * 3600
        ):
            to = wall_time - self.policy.lateness
            behind_h = (to - board_now).total_seconds() / 3600
            if live_h <= behind_h <= self.params.longest_horizon_hours:
                tick = ClockTick(to)
                self.clock.advance(to + _JUST_AFTER)
                step.archive.append(Archived(-1, tick))
                step.outputs.extend(self.board.step([tick]))
                step.applied += 1
        step.released_before = self.clock.released_before
        return step

    def _applying(self, released: Iterable[TitleClassified], step: Step) -> Iterator[None]:
        """Apply released inputs to the board one instant at a time, pausing after each."""
        for instant in instants(released):
            step.outputs.extend(self.board.step(instant))
            step.applied += len(instant)
            yield
        step.released_before = self.clock.released_before

    @classmethod
    def restore(
        cls,
        params: ScoringParams,
        policy: ClockPolicy,
        *,
        released_before: datetime | None,
        applied: Iterable[Input],
        waiting: Sequence[tuple[int, TitleClassified]],
        latest: dict[int, datetime],
        published: Mapping[tuple[Window, str], Published],
        wall: float,
    ) -> Scorer:
        """Rebuild the scorer live scoring had, from what the archive holds."""
        scorer = cls(params, policy)
        applied = list(applied)
        scorer.board = TrendBoard.restore(params, applied, published)
        scorer.clock.restore(
            released_before, waiting, latest, wall, released_ids=(i.event_id for i in applied)
        )
        return scorer
