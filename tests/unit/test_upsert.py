"""The pure parts of the upsert helpers: dedupe, chunking, and the SQL they build."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects.postgresql import Insert, insert

from trendkit.db.models import ObservationRow, Title
from trendkit.db.upsert import Target, chunked, dedupe, table_of, with_conflict_clause


def upsert_statement(model: Target, **clause: Any) -> Insert:
    """The insert that ``upsert`` and ``copy_upsert`` send, with its conflict clause."""
    table = table_of(model)
    return with_conflict_clause(insert(table), table, **clause)


def sql(stmt: Insert) -> str:
    # PostgreSQL's Insert stringifies with its own dialect, ON CONFLICT included.
    return str(stmt)


def test_dedupe_keeps_the_last_row_per_key() -> None:
    rows = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 1, "v": "c"}]

    assert dedupe(rows, ["id"]) == [{"id": 1, "v": "c"}, {"id": 2, "v": "b"}]


def test_dedupe_uses_every_column_of_a_composite_key() -> None:
    rows = [{"t": "x", "w": "day", "s": 1}, {"t": "x", "w": "week", "s": 2}]

    assert dedupe(rows, ["t", "w"]) == rows
    assert dedupe(rows, ["t"]) == [rows[1]]


def test_dedupe_names_a_missing_conflict_column() -> None:
    with pytest.raises(ValueError, match="window"):
        dedupe([{"title_id": "a"}], ["title_id", "window"])


def test_chunked_covers_every_row_in_order() -> None:
    rows = [{"i": i} for i in range(1201)]

    chunks = list(chunked(rows, 500))

    assert [len(c) for c in chunks] == [500, 500, 201]
    assert [r for c in chunks for r in c] == rows
    assert list(chunked([], 500)) == []


def test_chunked_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="positive"):
        list(chunked([{"i": 1}], 0))


def test_no_update_columns_means_do_nothing_on_conflict() -> None:
    text = sql(upsert_statement(ObservationRow, conflict=["event_id"]))

    assert "ON CONFLICT (event_id) DO NOTHING" in text


def test_update_sets_excluded_values_and_bumps_updated_at() -> None:
    text = sql(upsert_statement(Title, conflict=["title_id"], update=["name"]))

    assert "ON CONFLICT (title_id) DO UPDATE SET name = excluded.name" in text
    assert "updated_at = now()" in text


def test_only_if_newer_guards_the_update() -> None:
    stmt = upsert_statement(
        Title, conflict=["title_id"], update=["name"], only_if_newer="last_seen_at"
    )

    assert "WHERE titles.last_seen_at <= excluded.last_seen_at" in sql(stmt)


@pytest.mark.parametrize(
    ("conflict", "update", "culprit"),
    [(["nope"], None, "nope"), (["title_id"], ["nme"], "nme")],
)
def test_unknown_columns_are_rejected_by_name(
    conflict: list[str], update: list[str] | None, culprit: str
) -> None:
    with pytest.raises(ValueError, match=culprit):
        upsert_statement(Title, conflict=conflict, update=update)
