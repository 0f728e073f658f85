"""Thin handler: arrivals into the scorer, scores out, then everything recorded.

The scorer's state lives in memory and is rebuilt from Postgres (``archive.py``) at the
first batch and whenever a step failed to be published or stored: then the in-memory
state is ahead of what was recorded, and the retried batch must meet the recorded state
to make the same outputs again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

from services.scorer.archive import ScoreArchive
from services.scorer.engine import ClockPolicy, Scorer, Step
from services.scorer.scoring import ScoringParams
from trendkit.contracts import TRENDS_SCORED, TitleClassified, now_utc
from trendkit.stage import Delivered, Outbound, Outcome, cooperatively

log = logging.getLogger(__name__)


@dataclass
class ScorerMetrics:
    """What the scorer adds to every stage's metrics."""

    registry: CollectorRegistry
    late: Counter = field(init=False)
    duplicates: Counter = field(init=False)
    waiting: Gauge = field(init=False)
    watermark: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.late = Counter(
            "trending_scorer_late_events",
            "Observations that arrived behind the watermark: archived, not applied",
            registry=self.registry,
        )
        self.duplicates = Counter(
            "trending_scorer_duplicate_events",
            "Observations delivered again while still known: ignored",
            registry=self.registry,
        )
        self.waiting = Gauge(
            "trending_scorer_waiting_events",
            "Observations held back until every partition has moved past them",
            registry=self.registry,
        )
        self.watermark = Gauge(
            "trending_scorer_watermark_seconds",
            "Event time (Unix seconds) up to which observations have been applied",
            registry=self.registry,
        )


class ScoreTitles:
    """Score batches of classified titles (partition-aware), and tick between them."""

    def __init__(
        self,
        archive: ScoreArchive,
        params: ScoringParams,
        policy: ClockPolicy,
        metrics: ScorerMetrics,
    ) -> None:
        self.archive = archive
        self.params = params
        self.policy = policy
        self.metrics = metrics
        self.scorer: Scorer | None = None

    async def ready(self) -> Scorer:
        """Return the scorer, rebuilding it from Postgres first if it is not current."""
        if self.scorer is None:
            started = time.perf_counter()
            self.scorer = await self.archive.load(self.params, self.policy, time.monotonic())
            log.info(
                "scorer state rebuilt from Postgres in %.2f s: %d titles, %d waiting",
                time.perf_counter() - started,
                len(self.scorer.board.titles),
                self.scorer.clock.waiting,
            )
        return self.scorer

    async def __call__(self, batch: list[Delivered[TitleClassified]]) -> Outcome:
        """Handle one batch from ``titles.classified``."""
        scorer = await self.ready()
        arrivals = [(d.partition, d.event) for d in batch]
        # Instant by instant, letting the previous batch's writes go on meanwhile.
        step = await cooperatively(scorer.accepting(arrivals, time.monotonic()))
        # The archive keeps each event as it arrived: its bytes, not a re-encoding.
        received = {d.event.event_id: d.value.decode() for d in batch}
        return self._outcome(scorer, step, received)

    async def tick(self, silent_for: float) -> Outcome | None:
        """Between batches: release what idle partitions held back, let a quiet clock move.

        ``silent_for``: how long the stage has listened without receiving anything.
        """
        scorer = await self.ready()
        step = scorer.tick(time.monotonic(), now_utc(), silent_for)
        return None if step.empty else self._outcome(scorer, step, {})

    def _outcome(self, scorer: Scorer, step: Step, received: dict[str, str]) -> Outcome:
        # ``scorer``, not ``self.scorer``: while the batch was being scored, the previous
        # one may have failed to settle and dropped the state (``_forget``); this batch
        # then fails too (it waits for that one) and is undone.
        if step.late:
            self.metrics.late.inc(len(step.late))
            first = step.late[0]
            log.warning(
                "%d observation(s) arrived behind the watermark (%s) and were archived, "
                "not applied; the first: %s observed at %s",
                len(step.late),
                step.released_before,
                first.title_id,
                first.observed_at.isoformat(),
            )
        self.metrics.duplicates.inc(step.duplicates)
        self.metrics.waiting.set(scorer.clock.waiting)
        if step.released_before is not None:
            self.metrics.watermark.set(step.released_before.timestamp())
        scored = [Outbound(TRENDS_SCORED, s) for s in step.outputs]

        async def record(published: Awaitable[None]) -> None:
            await self.archive.store(step, received, before_commit=published)

        return Outcome(scored, record=record, on_failure=self._forget)

    def _forget(self) -> None:
        """A step was not recorded: drop the in-memory state; the next call rebuilds it."""
        self.scorer = None
