"""Trend score properties the design pins down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.scorer.scoring import ScoringParams, TrendBoard, _contribution
from tests.factories import title_classified
from trendkit.contracts import TitleClassified, TrendScored

T0 = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)


def _apply(board: TrendBoard, events: list[TitleClassified]) -> list[TrendScored]:
    """Apply a batch whose outputs were stored and published."""
    return board.apply(events)


def _raw(board: TrendBoard, title_id: str, window: str = "day") -> float:
    return dict(board.current(window))[title_id].raw  # type: ignore[arg-type]


@given(st.integers(1, 99), st.integers(1, 99))
def test_a_better_rank_never_lowers_the_score(better: int, worse: int) -> None:
    better, worse = sorted((better, worse))
    a, b = TrendBoard(), TrendBoard()
    _apply(a, [title_classified(name="X", rank=better, observed_at=T0)])
    _apply(b, [title_classified(name="X", rank=worse, observed_at=T0)])
    title_id = next(iter(a.titles))
    assert _raw(a, title_id) >= _raw(b, title_id)


def test_without_new_observations_a_score_decays() -> None:
    board = TrendBoard()
    _apply(board, [title_classified(name="Old", rank=1, observed_at=T0)])
    state = next(iter(board.titles.values()))
    params = ScoringParams()
    now = _contribution(params, "day", state, T0)
    later = _contribution(params, "day", state, T0 + timedelta(hours=6))
    gone = _contribution(params, "day", state, T0 + timedelta(hours=30))
    assert now is not None
    assert later is not None
    assert later.raw < now.raw
    assert gone is None


def test_agreement_across_sources_raises_the_score() -> None:
    one, two = TrendBoard(), TrendBoard()
    _apply(one, [title_classified(name="X", rank=5, source="a", observed_at=T0)])
    _apply(
        two,
        [
            title_classified(name="X", rank=5, source="a", observed_at=T0),
            title_classified(name="X", rank=5, source="b", observed_at=T0),
        ],
    )
    title_id = next(iter(one.titles))
    assert _raw(two, title_id) > _raw(one, title_id)
    assert dict(two.current("day"))[title_id].agreement > 0


def test_duplicated_events_change_nothing() -> None:
    event = title_classified(name="X", rank=3, observed_at=T0)
    board = TrendBoard()
    first = _apply(board, [event])
    assert first
    assert _apply(board, [event]) == []


def test_replaying_the_same_observations_gives_the_same_scores() -> None:
    events = [
        title_classified(name=f"T{i}", rank=r, source=s, observed_at=T0 + timedelta(hours=h))
        for h in range(4)
        for i, (r, s) in enumerate([(1, "a"), (3, "b"), (2, "a"), (7, "b")])
    ]
    a, b = TrendBoard(), TrendBoard()
    out_a = _apply(a, events)
    out_b = _apply(b, list(reversed(events)))
    assert [(e.title_id, e.window, e.score, e.rank) for e in out_a] == [
        (e.title_id, e.window, e.score, e.rank) for e in out_b
    ]


def test_scores_are_normalised_and_explained() -> None:
    board = TrendBoard()
    out = _apply(board, [title_classified(name=f"T{r}", rank=r, observed_at=T0) for r in (1, 4, 9)])
    day = sorted((e for e in out if e.window == "day"), key=lambda e: e.rank)
    assert day[0].score == 100.0
    assert all(0 <= e.score <= 100 for e in day)
    assert [e.rank for e in day] == [1, 2, 3]
    assert day[0].explanation.startswith("#1:")


def test_velocity_rewards_a_climb_and_time_scale_compresses_windows() -> None:
    board = TrendBoard()
    _apply(board, [title_classified(name="X", rank=20, observed_at=T0)])
    _apply(board, [title_classified(name="X", rank=2, observed_at=T0 + timedelta(hours=1))])
    title_id = next(iter(board.titles))
    assert dict(board.current("day"))[title_id].velocity > 0
    scaled = ScoringParams().time_scaled(720)
    assert scaled.half_life_hours["day"] == 12 / 720


def test_a_title_no_longer_seen_decays_as_event_time_moves_on() -> None:
    board = TrendBoard()
    _apply(board, [title_classified(name="Old", rank=1, observed_at=T0)])
    old = next(iter(board.titles))
    before = _raw(board, old, "live")
    out = _apply(board, [title_classified(name="New", rank=1, observed_at=T0 + timedelta(hours=2))])
    after = _raw(board, old, "live")
    assert after < before
    assert any(e.title_id == old and e.window == "live" for e in out)
    _apply(board, [title_classified(name="Newer", rank=1, observed_at=T0 + timedelta(hours=10))])
    assert old not in dict(board.current("live"))  # past the live window's horizon


def test_a_batch_that_failed_downstream_is_scored_again_identically() -> None:
    board = TrendBoard()
    _apply(board, [title_classified(name="A", rank=2, observed_at=T0)])
    batch = [title_classified(name="B", rank=1, observed_at=T0 + timedelta(minutes=5))]
    first = board.apply(batch)
    board.rollback(board.last_undo)  # storing or publishing failed: the stage rolls back
    again = board.apply(batch)
    assert first
    assert [e.model_dump() for e in again] == [e.model_dump() for e in first]
    assert board.apply(batch) == []  # once stored, a redelivery changes nothing
