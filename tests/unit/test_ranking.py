"""The scorer's ranking agrees with sorting every score from scratch, whatever the moves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.scorer.ranking import Ranking

TITLES = [f"title:movie:{i:016x}" for i in range(12)]
# A move: place a title at a score (few distinct scores, so ties are common), or drop it.
moves = st.lists(
    st.tuples(st.sampled_from(TITLES), st.none() | st.sampled_from([0.0, 0.5, 1.0, 2.5])),
    max_size=60,
)


def _sorted(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda t: (-scores[t], t))


@given(moves, st.booleans())
def test_ranking_matches_a_full_sort(moves: list[tuple[str, float | None]], rebuild: bool) -> None:
    ranking, scores = Ranking(), dict[str, float]()
    for title_id, raw in moves:
        if raw is None:
            ranking.remove(title_id)
            scores.pop(title_id, None)
        else:
            ranking.set(title_id, raw)
            scores[title_id] = raw
    if rebuild:
        ranking.rebuild(dict(scores))
    expected = _sorted(scores)
    assert len(ranking) == len(expected)
    assert ranking.top(len(expected) + 1) == expected
    assert [ranking.rank(t) for t in expected] == list(range(1, len(expected) + 1))
    assert [ranking.at(r) for r in range(len(expected) + 2)] == [None, *expected, None]
    assert all(t in ranking for t in expected)
    assert not any(t in ranking for t in set(TITLES) - set(expected))
    if expected:
        assert ranking.best() == scores[expected[0]]
