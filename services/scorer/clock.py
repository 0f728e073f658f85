"""Event time for the scorer: put arriving observations back in order, and say when.

Kafka keeps order within a partition only; the scorer reads six of them at once, in
batches of varying size. So arriving observations wait here until every partition has
moved past them, and are then released in (observed_at, event_id) order:

    watermark = min over partitions p of (latest observed_at seen on p) − lateness

An input is released once its ``observed_at`` is below the watermark. ``lateness`` allows
for disorder within a partition (two scrapers writing to it, say). Every partition holds
the watermark, however long since it last delivered; when none has delivered anything
for ``idle_s`` seconds of wall time while the scorer was free to listen, and the broker
held nothing more for it, everything waiting is released (the stream paused; nothing is
on its way).

An input arriving below the watermark already released is *late*: it is not applied
(the scores it would have changed are out), but the caller counts, logs and archives it.
Every released input is later than every input released before it, so the sequence the
board sees is the same however the arrivals were interleaved.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.scorer.board import Input, order_key
from trendkit.contracts import TitleClassified

_TICK = timedelta(microseconds=1)
REMEMBERED = 200_000
"""Released ids kept to recognise redeliveries; older ones count as late (and change nothing)."""


@dataclass
class Admission:
    """What became of a batch of arrivals."""

    waiting: list[tuple[int, TitleClassified]] = field(default_factory=list)
    late: list[tuple[int, TitleClassified]] = field(default_factory=list)
    duplicates: int = 0


class EventClock:
    """A reorder buffer with a watermark per partition."""

    def __init__(self, lateness: timedelta, idle_s: float) -> None:
        self.lateness = lateness
        self.idle_s = idle_s
        self.released_before: datetime | None = None
        self._heap: list[tuple[datetime, str, TitleClassified]] = []
        self._waiting: set[str] = set()
        self._latest: dict[int, datetime] = {}
        self._heard_at: dict[int, float] = {}
        # Ids released lately, to tell a redelivery from a late arrival (bounded).
        self._released: set[str] = set()
        self._released_order: deque[str] = deque()

    @property
    def waiting(self) -> int:
        """Return how many inputs wait for the watermark."""
        return len(self._heap)

    def expect(self, partitions: Iterable[int], wall: float) -> None:
        """Name the partitions that feed this clock: each holds the watermark until heard
        from or idle, so events from one not yet read cannot be overtaken (and made late).
        """
        for partition in partitions:
            self._heard_at.setdefault(partition, wall)

    def admit(self, arrivals: Iterable[tuple[int, TitleClassified]], wall: float) -> Admission:
        """Take arrivals in: each waits, is late, or is a duplicate of one waiting."""
        admission = Admission()
        for partition, event in arrivals:
            self._heard_at[partition] = wall
            if event.event_id in self._waiting or event.event_id in self._released:
                admission.duplicates += 1
                continue
            if self.released_before is not None and event.observed_at < self.released_before:
                admission.late.append((partition, event))
                continue
            self._wait(partition, event)
            admission.waiting.append((partition, event))
        return admission

    def _wait(self, partition: int, event: TitleClassified) -> None:
        heapq.heappush(self._heap, (event.observed_at, event.event_id, event))
        self._waiting.add(event.event_id)
        latest = self._latest.get(partition)
        if latest is None or event.observed_at > latest:
            self._latest[partition] = event.observed_at

    def release(self, wall: float, quiet: float | None = None) -> list[TitleClassified]:
        """Return the inputs the watermark has passed, in order.

        ``quiet``: seconds of silence, when the caller knows better than arrival times
        (see ``Scorer.tick``); by default, the time since any partition delivered.
        """
        watermark: datetime | None = None
        if (self.quiet_for(wall) if quiet is None else quiet) > self.idle_s:
            if self._heap:  # the stream paused: nothing is on its way; release all
                watermark = max(t for t, _, _ in self._heap) + _TICK
        elif self._heard_at and all(p in self._latest for p in self._heard_at):
            # Every partition holds it, even one quiet for a while: under a burst the
            # consumer may not reach a partition for seconds, and whatever it then
            # delivers must not find the watermark gone past it. (A partition that has
            # not shown its time yet holds it too: it may hold older events.)
            watermark = min(self._latest.values()) - self.lateness
        if watermark is not None and (
            self.released_before is None or watermark > self.released_before
        ):
            self.released_before = watermark
        out: list[TitleClassified] = []
        while self._heap and self.released_before and self._heap[0][0] < self.released_before:
            _, event_id, event = heapq.heappop(self._heap)
            self._waiting.discard(event_id)
            self._remember(event_id)
            out.append(event)
        return out

    def _remember(self, event_id: str) -> None:
        self._released.add(event_id)
        self._released_order.append(event_id)
        if len(self._released_order) > REMEMBERED:
            self._released.discard(self._released_order.popleft())

    def quiet_for(self, wall: float) -> float:
        """Return the seconds since any partition last delivered something."""
        return wall - max(self._heard_at.values(), default=wall)

    def advance(self, released_before: datetime) -> None:
        """Move the watermark on by decree (a clock tick): older arrivals are late."""
        if self.released_before is None or released_before > self.released_before:
            self.released_before = released_before

    def restore(
        self,
        released_before: datetime | None,
        waiting: Sequence[tuple[int, TitleClassified]],
        latest: dict[int, datetime],
        wall: float,
        released_ids: Iterable[str] = (),
    ) -> None:
        """Start from a stored watermark, the inputs waiting, each partition's latest time."""
        self.released_before = released_before
        self._heap, self._waiting = [], set()
        self._latest = dict(latest)
        self._heard_at = dict.fromkeys(latest, wall)
        for event_id in released_ids:
            self._remember(event_id)
        for partition, event in sorted(waiting, key=lambda pe: order_key(pe[1])):
            self._wait(partition, event)


def in_order(inputs: Iterable[Input]) -> list[Input]:
    """Return inputs in the order the board applies them."""
    return sorted(inputs, key=order_key)
