"""The scorer's state: every title's sightings, its score per window, what was published.

Inputs are applied in event-time order, one instant (one ``observed_at``) at a time
(``clock.py`` sees to that), and
every decision (what is scored, what is published) depends only on that sequence, never
on how it was cut into batches or on the wall clock. So the same observations give the
same published history, whether live, replayed, or after a restart (``restore``).

Per instant, in each window:

* the titles observed are rescored; each is published when it is new to the board, when
  its score moved by ``min_score_change`` or its rank by ``min_rank_change`` (or by
  ``rank_change_share`` of its rank, if more) since it was last published, or when it
  became or stopped being #1, or entered or left the top ``publish_top_n``; the leader
  and the titles at #N and #N+1 are checked too, since a move at the top or across the
  top-N line pushes or pulls one of them;
* when event time crosses a decay boundary (every ``decay_tick`` of the window's
  half-life, aligned to the epoch), every title in the window is rescored (decay), and
  the top N are checked for news. Titles below the top N shift silently: one newcomer
  must not republish the whole long tail. Past the longest window's horizon a title is
  forgotten.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.scorer.ranking import Ranking
from services.scorer.scoring import ScoringParams, TitleState, contribution, explain
from trendkit.contracts import (
    WINDOWS,
    Provenance,
    ScoreComponents,
    TitleClassified,
    TitleScored,
    Window,
    WindowScore,
    derive_event_id,
)

SCORER_VERSION = "2"
SCORED_BY = Provenance(provider="scorer", model="trend-score", version=SCORER_VERSION)
LONGEST: Window = "week"


@dataclass(frozen=True)
class ClockTick:
    """Event time moving on with no observation (the wall clock, when sources are quiet)."""

    observed_at: datetime

    @property
    def event_id(self) -> str:
        """Return the tick's id: one tick per instant."""
        return f"tick:{self.observed_at.isoformat()}"


Input = TitleClassified | ClockTick


def order_key(item: Input) -> tuple[datetime, str]:
    """The order inputs are applied in: event time, then id (so ties cannot matter)."""
    return (item.observed_at, item.event_id)


def instants(ordered: Iterable[Input]) -> Iterator[list[Input]]:
    """Group inputs in order into runs of equal ``observed_at``."""
    for _, group in itertools.groupby(ordered, key=lambda item: item.observed_at):
        yield list(group)


_Moved = dict[str, tuple[TitleClassified, list[WindowScore]]]
"""Per title, its latest input and its windows whose new score is news at this instant
(in window order). The input is taken when a window is published: a longest-window pass
may forget the title before the event is built."""


@dataclass(frozen=True)
class Published:
    """What was last published for a title in a window."""

    score: float
    rank: int


@dataclass
class _Pass:
    """The last decay pass of a window: which boundary, and the event time it ran at."""

    boundary: int
    at: datetime


@dataclass
class TrendBoard:
    """Scores of every current title per window, updated one input at a time."""

    params: ScoringParams = field(default_factory=ScoringParams)
    titles: dict[str, TitleState] = field(default_factory=dict)
    now: datetime | None = None
    raw: dict[Window, dict[str, ScoreComponents]] = field(
        default_factory=lambda: {w: {} for w in WINDOWS}
    )
    rankings: dict[Window, Ranking] = field(default_factory=lambda: {w: Ranking() for w in WINDOWS})
    published: dict[Window, dict[str, Published]] = field(
        default_factory=lambda: {w: {} for w in WINDOWS}
    )
    passes: dict[Window, _Pass] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)

    # --- applying inputs ------------------------------------------------------------

    def apply(self, inputs: Iterable[Input]) -> list[TitleScored]:
        """Apply inputs in event-time order; return what is worth publishing."""
        out: list[TitleScored] = []
        for instant in instants(sorted(inputs, key=order_key)):
            out.extend(self.step(instant))
        return out

    def step(self, instant: Sequence[Input]) -> list[TitleScored]:
        """Apply the inputs of one instant (one ``observed_at``, not older than the last).

        One chart scrape is one instant: its titles are rescored together and each is
        published at most once for it, however many sources saw it then: one event with
        every window where it moved.
        """
        touched: dict[str, None] = {}
        for item in instant:
            title_id = self._take(item)
            if title_id is not None:
                touched[title_id] = None
        moved: _Moved = {}
        for window in WINDOWS:
            if self._pass_due(window):
                self._full_pass(window, touched, moved)
            elif touched:
                self._rescore(window, touched, moved)
        return [self._event(latest, scores) for latest, scores in moved.values()]

    def _take(self, item: Input) -> str | None:
        """Fold an input into the state; return the title it touched, if any."""
        if self.now is None or item.observed_at > self.now:
            self.now = item.observed_at
        if isinstance(item, ClockTick):
            return None
        state = self.titles.get(item.title_id)
        if state is None:
            state = self.titles[item.title_id] = TitleState(latest=item)
        state.fold(item)
        self.last_seen[item.title_id] = max(
            item.observed_at, self.last_seen.get(item.title_id, item.observed_at)
        )
        return item.title_id

    # --- decay passes -----------------------------------------------------------------

    def _boundary(self, window: Window) -> int:
        assert self.now is not None
        tick_s = self.params.half_life_hours[window] * self.params.decay_tick * 3600
        return math.floor(self.now.timestamp() / tick_s)

    def _pass_due(self, window: Window) -> bool:
        last = self.passes.get(window)
        return last is None or self._boundary(window) > last.boundary

    def _full_pass(self, window: Window, touched: Mapping[str, None], moved: _Moved) -> None:
        assert self.now is not None
        self.passes[window] = _Pass(self._boundary(window), self.now)
        raw = self.raw[window]
        for title_id in list(raw) + [t for t in touched if t not in raw]:
            comp = contribution(self.params, window, self.titles[title_id], self.now)
            if comp is None:
                del raw[title_id]
            else:
                raw[title_id] = comp
        ranking = self.rankings[window]
        ranking.rebuild({t: c.raw for t, c in raw.items()})
        if window == LONGEST:
            self._forget_gone()
        candidates = set(ranking.top(self.params.publish_top_n))
        candidates.update(t for t in touched if t in raw)
        self._publish(window, candidates, moved)

    def _forget_gone(self) -> None:
        """Drop titles past every window's horizon (they can only come back as new)."""
        gone = [t for t in self.titles if t not in self.raw[LONGEST]]
        for title_id in gone:
            del self.titles[title_id]
            del self.last_seen[title_id]
            for window in WINDOWS:
                self.published[window].pop(title_id, None)
                if title_id in self.raw[window]:
                    del self.raw[window][title_id]
                    self.rankings[window].remove(title_id)

    # --- one title --------------------------------------------------------------------

    def _rescore(self, window: Window, touched: Mapping[str, None], moved: _Moved) -> None:
        assert self.now is not None
        raw, ranking = self.raw[window], self.rankings[window]
        candidates: set[str] = set()
        for title_id in touched:
            comp = contribution(self.params, window, self.titles[title_id], self.now)
            if comp is None:
                raw.pop(title_id, None)
                ranking.remove(title_id)
            else:
                raw[title_id] = comp
                ranking.set(title_id, comp.raw)
                candidates.add(title_id)
        n = self.params.publish_top_n
        # The leader and the titles either side of the top-N line: a move of one place
        # there is news (a new #1; entering or leaving the top N) though the title was not
        # observed. Without it a leader overtaken by a close second was republished at #2
        # while the new #1 kept its old #2: the ranking had no #1 (seen in the e2e test).
        for edge in (ranking.at(1), ranking.at(n), ranking.at(n + 1)):
            if edge is not None:
                candidates.add(edge)
        self._publish(window, candidates, moved)

    # --- publishing -------------------------------------------------------------------

    def _publish(self, window: Window, candidates: Iterable[str], moved: _Moved) -> None:
        """Add the candidates whose score in ``window`` is news to ``moved``."""
        raw, ranking = self.raw[window], self.rankings[window]
        if not raw:
            return
        top = ranking.best()
        published = self.published[window]
        for rank, title_id in sorted((ranking.rank(t), t) for t in candidates):
            comp = raw[title_id]
            score = round(100 * comp.raw / top, 2) if top > 0 else 0.0
            last = published.get(title_id)
            if last is not None and not self._is_news(last, score, rank):
                continue
            published[title_id] = Published(score=score, rank=rank)
            entry = moved.get(title_id)
            if entry is None:
                entry = moved[title_id] = (self.titles[title_id].latest, [])
            entry[1].append(self._window_score(window, title_id, score, rank, comp, last))

    def _is_news(self, last: Published, score: float, rank: int) -> bool:
        """Say whether a score differs enough from the last published one to send it."""
        n = self.params.publish_top_n
        # Ranks jitter more the further down they are: at #300 ten places are noise.
        rank_step = max(self.params.min_rank_change, self.params.rank_change_share * last.rank)
        return (
            abs(last.score - score) >= self.params.min_score_change
            or abs(last.rank - rank) >= rank_step
            or (last.rank == 1) != (rank == 1)
            or (last.rank <= n) != (rank <= n)
        )

    def _window_score(
        self,
        window: Window,
        title_id: str,
        score: float,
        rank: int,
        comp: ScoreComponents,
        last: Published | None,
    ) -> WindowScore:
        assert self.now is not None
        previous_rank = last.rank if last is not None else None
        return WindowScore(
            event_id=derive_event_id(
                title_id, window, self.now.isoformat(), f"{score:.2f}", str(rank)
            ),
            window=window,
            score=score,
            rank=rank,
            previous_rank=previous_rank,
            components=comp,
            explanation=explain(comp, rank, previous_rank),
        )

    def _event(self, latest: TitleClassified, scores: list[WindowScore]) -> TitleScored:
        assert self.now is not None
        return TitleScored(
            event_id=TitleScored.derive_id(scores),
            title_id=latest.title_id,
            observed_at=self.now,
            windows=scores,
            title=latest.title,
            genres=latest.classification.genres or latest.enrichment.genres,
            summary=latest.enrichment.summary,
            vibe_tags=latest.enrichment.vibe_tags,
            scored_by=SCORED_BY,
        )

    # --- reading and restoring ----------------------------------------------------------

    def current(self, window: Window) -> Sequence[tuple[str, ScoreComponents]]:
        """Return the window's titles with their components, best first."""
        ranking = self.rankings[window]
        return [(t, self.raw[window][t]) for t in ranking.top(len(ranking))]

    def restore_horizon(self, until: datetime) -> datetime:
        """Return how far back :meth:`restore` needs inputs to rebuild the state at ``until``.

        Two longest horizons: a sighting still counting at ``until`` may take its velocity
        from the sighting before it, up to one horizon earlier.
        """
        return until - 2 * timedelta(hours=self.params.longest_horizon_hours)

    @classmethod
    def restore(
        cls,
        params: ScoringParams,
        applied: Iterable[Input],
        published: Mapping[tuple[Window, str], Published],
    ) -> TrendBoard:
        """Rebuild the board that live scoring had after ``applied`` (in order).

        ``applied``: every input applied since :meth:`restore_horizon`; ``published``: the
        last published score per (window, title), as stored. Nothing is published: the
        sightings are folded, the decay passes found where they ran, and each title's
        score recomputed at the event time live scoring last computed it.
        """
        board = cls(params=params)
        for item in applied:
            board._take(item)
            for window in WINDOWS:
                if board._pass_due(window):
                    board.passes[window] = _Pass(board._boundary(window), item.observed_at)
                    if window == LONGEST:
                        board._forget_stale()
        for window in WINDOWS:
            last_pass = board.passes.get(window)
            raw = board.raw[window]
            for title_id, state in board.titles.items():
                at = board.last_seen[title_id]
                if last_pass is not None and last_pass.at > at:
                    at = last_pass.at
                comp = contribution(params, window, state, at)
                if comp is not None:
                    raw[title_id] = comp
            board.rankings[window].rebuild({t: c.raw for t, c in raw.items()})
            board.published[window] = {
                t: p for (w, t), p in published.items() if w == window and t in board.titles
            }
        return board

    def _forget_stale(self) -> None:
        """At a longest-window pass while restoring: drop what live scoring dropped there."""
        assert self.now is not None
        now = self.now
        params = self.params
        stale = [t for t, s in self.titles.items() if not contribution(params, LONGEST, s, now)]
        for title_id in stale:
            del self.titles[title_id]
            del self.last_seen[title_id]
