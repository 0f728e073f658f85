"""Trend scores: a time-decayed sum of per-source rank points, plus agreement, velocity, hype.

For one title, window ``w`` and event time ``t`` (the latest ``observed_at`` seen, never the
wall clock, so replaying the same observations gives the same scores):

    points(r)  = 1 / (1 + (r − 1) / k)            (k = rank_scale: #1 → 1, #k+1 → ½)
    decay_s    = 0.5 ^ ((t − seen_s) / half_life_w), 0 once t − seen_s > horizon_w
    sources    = Σ_s weight_s · points(rank_s) · decay_s
    agreement  = agreement_bonus · (n_active − 1) · sources / n_active
    velocity   = velocity_weight · Σ_s max(0, points(rank_s) − points(prev_rank_s)) · decay_s
    hype       = hype_weight · hype_score / 100
    raw        = sources + agreement + velocity + hype
    score      = 100 · raw / max(raw over current titles in w)

A title is published for a window when it enters the board, enters or leaves the top
``publish_top_n``, its score moves by at least ``min_score_change`` or its rank by at
least ``min_rank_change``. Below the top N only titles with new observations are even
considered, so one newcomer does not republish the whole long tail, and a newcomer
pushing fifty titles down one place each republishes none of them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from trendkit.contracts import (
    WINDOWS,
    Provenance,
    ScoreComponents,
    TitleClassified,
    TrendScored,
    Window,
    derive_event_id,
)

SCORER_VERSION = "skeleton-1"
SCORED_BY = Provenance(provider="scorer", model="trend-score", version=SCORER_VERSION)
DECAY_TICK = 0.1
"""Share of a window's half-life after which every title in it is rescored."""


@dataclass(frozen=True)
class ScoringParams:
    """The knobs of the formula above."""

    rank_scale: float = 5.0
    half_life_hours: dict[str, float] = field(
        default_factory=lambda: {"live": 3.0, "day": 12.0, "week": 48.0}
    )
    horizon_hours: dict[str, float] = field(
        default_factory=lambda: {"live": 6.0, "day": 24.0, "week": 168.0}
    )
    source_weights: dict[str, float] = field(default_factory=dict)
    agreement_bonus: float = 0.15
    velocity_weight: float = 0.5
    hype_weight: float = 0.1
    min_score_change: float = 0.5
    min_rank_change: int = 2
    publish_top_n: int = 50

    def time_scaled(self, factor: float) -> ScoringParams:
        """Return these params with half-lives and horizons divided by ``factor``.

        A replay at N× speed compresses event time N-fold; scaling the windows by the
        same factor keeps decay visible in the demo. Production runs use factor 1.
        """
        return replace(
            self,
            half_life_hours={w: h / factor for w, h in self.half_life_hours.items()},
            horizon_hours={w: h / factor for w, h in self.horizon_hours.items()},
        )


@dataclass
class SourceSighting:
    """The latest sighting of a title on one source."""

    rank: int
    seen_at: datetime
    previous_rank: int | None


@dataclass
class TitleState:
    """What the scorer remembers about one title."""

    latest: TitleClassified
    sightings: dict[str, SourceSighting] = field(default_factory=dict)


@dataclass
class Undo:
    """What one apply() changed in the record of what was published, to restore it."""

    published: dict[tuple[Window, str], Published | None] = field(default_factory=dict)
    decay: dict[Window, datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """What was last published for a title in a window."""

    score: float
    rank: int


def rank_points(rank: int, scale: float) -> float:
    """Points for a chart position: 1 for #1, halving by #scale+1, never reaching 0."""
    return 1.0 / (1.0 + (rank - 1) / scale)


def _contribution(
    params: ScoringParams, window: Window, state: TitleState, now: datetime
) -> ScoreComponents | None:
    half_life = params.half_life_hours[window]
    horizon = params.horizon_hours[window]
    sources: dict[str, float] = {}
    velocity = 0.0
    decays = []
    for source, s in sorted(state.sightings.items()):
        age_h = (now - s.seen_at).total_seconds() / 3600
        if age_h > horizon:
            continue
        decay = 0.5 ** (max(age_h, 0.0) / half_life)
        decays.append(decay)
        weight = params.source_weights.get(source, 1.0)
        points = rank_points(s.rank, params.rank_scale)
        sources[source] = round(weight * points * decay, 6)
        if s.previous_rank is not None and s.previous_rank > s.rank:
            gained = points - rank_points(s.previous_rank, params.rank_scale)
            velocity += params.velocity_weight * gained * decay
    if not sources:
        return None
    total = sum(sources.values())
    agreement = params.agreement_bonus * (len(sources) - 1) * total / len(sources)
    hype = params.hype_weight * state.latest.enrichment.hype_score / 100
    raw = total + agreement + velocity + hype
    # Built by us from validated inputs, thousands per batch: skip re-validation here; the
    # TrendScored that carries it out is validated whole.
    return ScoreComponents.model_construct(
        sources=sources,
        agreement=round(agreement, 6),
        velocity=round(velocity, 6),
        hype=round(hype, 6),
        decay=round(max(decays), 6),
        raw=round(raw, 6),
    )


def explain(components: ScoreComponents, rank: int, previous_rank: int | None) -> str:
    """Say in one sentence why a title is where it is."""
    top = max(components.sources, key=lambda s: components.sources[s])
    parts = [f"strongest on {top}"]
    if len(components.sources) > 1:
        parts.append(f"charting on {len(components.sources)} sources")
    if components.velocity > 0:
        parts.append("climbing fast")
    if previous_rank is not None and previous_rank != rank:
        parts.append(f"{'up' if previous_rank > rank else 'down'} from #{previous_rank}")
    return f"#{rank}: " + ", ".join(parts) + "."


class Ranking:
    """Titles ordered best first, kept sorted as scores change (no full sort per batch)."""

    def __init__(self) -> None:
        # Sorted ascending by (-raw, title_id): best first, ties broken by id.
        self._keys: list[tuple[float, str]] = []
        self._key_of: dict[str, tuple[float, str]] = {}

    def set(self, title_id: str, raw: float) -> None:
        """Place a title at its new score."""
        self.remove(title_id)
        key = (-raw, title_id)
        bisect.insort(self._keys, key)
        self._key_of[title_id] = key

    def remove(self, title_id: str) -> None:
        """Take a title out, if it is in."""
        key = self._key_of.pop(title_id, None)
        if key is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]

    def rebuild(self, raw: dict[str, float]) -> None:
        """Replace everything at once (after a full decay pass)."""
        self._key_of = {t: (-r, t) for t, r in raw.items()}
        self._keys = sorted(self._key_of.values())

    def rank(self, title_id: str) -> int:
        """Return a title's 1-based rank."""
        return bisect.bisect_left(self._keys, self._key_of[title_id]) + 1

    def top(self, n: int) -> list[str]:
        """Return the best n titles, best first."""
        return [t for _, t in self._keys[:n]]

    def best(self) -> float:
        """Return the best raw score."""
        return -self._keys[0][0]


class TrendBoard:
    """The scorer's state: every title's latest sightings and what was last published."""

    def __init__(self, params: ScoringParams | None = None) -> None:
        self.params = params or ScoringParams()
        self.titles: dict[str, TitleState] = {}
        self.now: datetime | None = None
        self.raw: dict[Window, dict[str, ScoreComponents]] = {w: {} for w in WINDOWS}
        self.rankings: dict[Window, Ranking] = {w: Ranking() for w in WINDOWS}
        self.published: dict[Window, dict[str, Published]] = {w: {} for w in WINDOWS}
        self._decayed_at: dict[Window, datetime] = {}
        self._undo = Undo()

    def apply(self, events: Iterable[TitleClassified]) -> list[TrendScored]:
        """Fold a batch of observations in and return the scores worth publishing.

        Folding is idempotent (a redelivered event leaves every sighting as it was), so
        duplicates need no bookkeeping. What is published is recorded at once, so the
        next batch can be scored while this one is still being stored; if storing or
        publishing fails, :meth:`rollback` with :attr:`last_undo` makes a retry produce
        the same outputs again instead of suppressing them as already published.
        """
        self._undo = Undo()
        touched: set[str] = set()
        for event in sorted(events, key=lambda e: (e.observed_at, e.event_id)):
            self._fold(event)
            touched.add(event.title_id)
        if not touched or self.now is None:
            return []
        out: list[TrendScored] = []
        for window in WINDOWS:
            out.extend(self._rescore(window, touched))
        return out

    def _fold(self, event: TitleClassified) -> None:
        state = self.titles.get(event.title_id)
        if state is None:
            state = self.titles[event.title_id] = TitleState(latest=event)
        elif event.observed_at >= state.latest.observed_at:
            state.latest = event
        source = event.observation.source
        old = state.sightings.get(source)
        if old is None or event.observed_at >= old.seen_at:
            previous = old.rank if old is not None and event.observed_at > old.seen_at else None
            if old is not None and previous is None:
                previous = old.previous_rank
            state.sightings[source] = SourceSighting(
                rank=event.observation.rank, seen_at=event.observed_at, previous_rank=previous
            )
        if self.now is None or event.observed_at > self.now:
            self.now = event.observed_at

    def _rescore(self, window: Window, touched: set[str]) -> list[TrendScored]:
        assert self.now is not None
        raw = self.raw[window]
        ranking = self.rankings[window]
        # Decay: when event time has moved on by a tenth of the window's half-life since
        # the last full pass, every title is rescored, not only those seen in this batch.
        # Driven by event time, so a replay decays exactly as the live run did.
        tick = timedelta(hours=self.params.half_life_hours[window] * DECAY_TICK)
        decayed_at = self._decayed_at.get(window)
        full = decayed_at is None or self.now - decayed_at >= tick
        if full:
            self._undo.decay.setdefault(window, decayed_at)
            self._decayed_at[window] = self.now
        for title_id in touched | set(raw) if full else touched:
            comp = _contribution(self.params, window, self.titles[title_id], self.now)
            if comp is None:
                raw.pop(title_id, None)
                ranking.remove(title_id)
            else:
                raw[title_id] = comp
                if not full:
                    ranking.set(title_id, comp.raw)
        if full:
            ranking.rebuild({t: c.raw for t, c in raw.items()})
        if not raw:
            return []
        top = ranking.best()
        # Only the top N and the titles seen in this batch can have news worth sending;
        # below the top N, ranks shift silently as others come and go.
        candidates = set(ranking.top(self.params.publish_top_n)) | (touched & raw.keys())
        out = []
        published = self.published[window]
        for rank, title_id in sorted((ranking.rank(t), t) for t in candidates):
            comp = raw[title_id]
            score = round(100 * comp.raw / top, 2) if top > 0 else 0.0
            last = published.get(title_id)
            if last is not None and not self._is_news(last, score, rank):
                continue
            self._undo.published.setdefault((window, title_id), last)
            published[title_id] = Published(score=score, rank=rank)
            out.append(self._event(window, title_id, score, rank, comp, last))
        return out

    def _is_news(self, last: Published, score: float, rank: int) -> bool:
        """Say whether a score differs enough from the last published one to send it."""
        n = self.params.publish_top_n
        return (
            abs(last.score - score) >= self.params.min_score_change
            or abs(last.rank - rank) >= self.params.min_rank_change
            or (last.rank <= n) != (rank <= n)
        )

    @property
    def last_undo(self) -> Undo:
        """Return what undoes the last :meth:`apply`'s record of what was published."""
        return self._undo

    def rollback(self, undo: Undo) -> None:
        """Forget that a batch's outputs were published (they were not stored or sent)."""
        for (window, title_id), previous in undo.published.items():
            if previous is None:
                self.published[window].pop(title_id, None)
            else:
                self.published[window][title_id] = previous
        for window, decayed_at in undo.decay.items():
            if decayed_at is None:
                self._decayed_at.pop(window, None)
            else:
                self._decayed_at[window] = decayed_at

    def _event(
        self,
        window: Window,
        title_id: str,
        score: float,
        rank: int,
        comp: ScoreComponents,
        last: Published | None,
    ) -> TrendScored:
        latest = self.titles[title_id].latest
        assert self.now is not None
        previous_rank = last.rank if last is not None else None
        return TrendScored(
            event_id=derive_event_id(
                title_id, window, self.now.isoformat(), f"{score:.2f}", str(rank)
            ),
            title_id=title_id,
            observed_at=self.now,
            window=window,
            score=score,
            rank=rank,
            previous_rank=previous_rank,
            components=comp,
            explanation=explain(comp, rank, previous_rank),
            title=latest.title,
            genres=latest.classification.genres or latest.enrichment.genres,
            summary=latest.enrichment.summary,
            vibe_tags=latest.enrichment.vibe_tags,
            scored_by=SCORED_BY,
        )

    def current(self, window: Window) -> Sequence[tuple[str, ScoreComponents]]:
        """Return the window's titles with their components, best first."""
        raw = self.raw[window]
        return sorted(raw.items(), key=lambda kv: (-kv[1].raw, kv[0]))
