"""The replay source's timeline format, and the demo timeline we ship."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scraper.demo import make_demo_timeline
from services.scraper.timeline import (
    DEMO_TIMELINE,
    TimelineEntry,
    TimelineError,
    load_timeline,
    parse_timeline,
)

GOOD: dict[str, Any] = {
    "at": "2026-03-13T00:00:00Z",
    "source": "tmdb_trending_day",
    "rank": 1,
    "media_type": "movie",
    "title": "The Glass Orchard",
    "year": 2025,
    "overview": "A greenhouse that remembers.",
    "url": None,
    "signals": {"rank_change": 2},
}


def write_lines(path: Path, *lines: dict[str, Any] | str) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def good(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


# --- the demo timeline ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> list[TimelineEntry]:
    return load_timeline(DEMO_TIMELINE)


def snapshots(entries: list[TimelineEntry]) -> dict[str, list[list[TimelineEntry]]]:
    """Group entries by source, then by instant, in time order."""
    grouped: dict[str, dict[datetime, list[TimelineEntry]]] = defaultdict(dict)
    for entry in entries:
        grouped[entry.source].setdefault(entry.at, []).append(entry)
    return {source: list(by_at.values()) for source, by_at in grouped.items()}


def test_demo_timeline_has_the_promised_breadth(demo: list[TimelineEntry]) -> None:
    titles = {entry.title_id: entry for entry in demo}
    assert len(titles) >= 150
    assert {entry.source for entry in demo} == {
        "tmdb_trending_day",
        "boxoffice_daily",
        "streaming_top10",
        "critics_buzz",
    }
    assert demo[-1].at - demo[0].at >= timedelta(hours=48)
    kinds = [entry.media_type for entry in titles.values()]
    assert kinds.count("movie") >= 90
    assert kinds.count("tv") >= 60
    assert 2300 <= len(demo) <= 2500
    assert all(entry.overview and 2024 <= (entry.year or 0) <= 2026 for entry in demo)
    assert all(entry.tmdb_id is None for entry in demo), "invented titles must not claim TMDb ids"


def test_demo_snapshots_are_well_formed_charts(demo: list[TimelineEntry]) -> None:
    for source, snaps in snapshots(demo).items():
        assert len(snaps) == 25, source
        for snap in snaps:
            assert [entry.rank for entry in snap] == list(range(1, len(snap) + 1))
            assert len(snap) <= 50
            assert len({entry.title_id for entry in snap}) == len(snap)
    box_office = [entry for entry in demo if entry.source == "boxoffice_daily"]
    assert all(entry.media_type == "movie" for entry in box_office)
    assert all({"gross_usd", "theaters"} <= entry.signals.keys() for entry in box_office)
    streaming = [entry for entry in demo if entry.source == "streaming_top10"]
    assert all(entry.signals["weeks_in_top10"] >= 1 for entry in streaming)
    critics = [entry for entry in demo if entry.source == "critics_buzz"]
    assert all(0 <= entry.signals["critic_score"] <= 100 for entry in critics)
    assert all(entry.signals["review_count"] >= 1 for entry in critics)


def test_demo_rank_change_matches_the_previous_snapshot(demo: list[TimelineEntry]) -> None:
    for snaps in snapshots(demo).values():
        for before, now in itertools.pairwise(snaps):
            previous = {entry.title_id: entry.rank for entry in before}
            for entry in now:
                if entry.title_id in previous:
                    assert entry.signals["rank_change"] == previous[entry.title_id] - entry.rank
                else:
                    assert "rank_change" not in entry.signals
                    assert entry.signals["new_entry"] == 1
        assert all("rank_change" not in entry.signals for entry in snaps[0])


def test_demo_tells_a_story_of_movement(demo: list[TimelineEntry]) -> None:
    changes = [entry.signals.get("rank_change", 0) for entry in demo]
    assert max(changes) >= 3, "risers"
    assert min(changes) <= -3, "fallers"
    for source, snaps in snapshots(demo).items():
        first = {entry.title for entry in snaps[0]}
        last = {entry.title for entry in snaps[-1]}
        seen = {entry.title for snap in snaps for entry in snap}
        assert seen - first, f"no new entries on {source}"
        assert first - last, f"no drop-outs on {source}"
        # the breakout: nowhere at the start, #1 at the end, on every source
        assert "Midnight Ferry" not in first
        assert snaps[-1][0].title == "Midnight Ferry"


def test_demo_generator_rewrites_the_file_byte_identically() -> None:
    assert make_demo_timeline.render().encode() == DEMO_TIMELINE.read_bytes()


# --- the format -----------------------------------------------------------------------


def test_entries_are_sorted_by_time_and_stable(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        good(at="2026-03-13T02:00:00Z", title="Later"),
        good(at="2026-03-13T00:00:00Z", title="B", rank=2),
        "",
        good(at="2026-03-13T01:00:00+01:00", title="A", rank=1),  # the same instant as B
        good(at="2026-03-13T00:00:00Z", title="C", rank=3),
    )
    entries = load_timeline(path)
    assert [entry.title for entry in entries] == ["B", "A", "C", "Later"]
    assert entries[0].at == datetime(2026, 3, 13, tzinfo=UTC)
    assert entries[1].at.tzinfo is UTC


def test_optional_fields_default_and_tmdb_id_sets_the_title_id(tmp_path: Path) -> None:
    minimal = {key: GOOD[key] for key in ("at", "source", "rank", "media_type", "title")}
    path = write_lines(tmp_path / "t.jsonl", minimal, good(tmdb_id=603, rank=2))
    bare, known = load_timeline(path)
    assert (bare.year, bare.tmdb_id, bare.overview, bare.url, bare.signals) == (
        None,
        None,
        "",
        None,
        {},
    )
    assert bare.title_id.startswith("title:movie:")
    assert known.title_id == "tmdb:movie:603"


def test_the_bad_line_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "demo.jsonl", *[good(rank=r, title=f"T{r}") for r in range(1, 17)], good(rank=0)
    )
    with pytest.raises(TimelineError) as caught:
        load_timeline(path)
    assert str(caught.value) == f"{path}:17: rank: Input should be greater than or equal to 1"
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(path), 17, "rank")


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (good(media_type="film"), "media_type", "Input should be 'movie' or 'tv'"),
        (good(rank="3"), "rank", "Input should be a valid integer"),
        (good(at="2026-03-13T00:00:00"), "at", "Input should have timezone info"),
        (good(at="yesterday"), "at", "Input should be a valid datetime"),
        (good(title=""), "title", "String should have at least 1 character"),
        (good(year=1200), "year", "Input should be greater than or equal to 1870"),
        (good(signals={"gross_usd": "a lot"}), "signals.gross_usd", "valid number"),
        (good(ranking=3), "ranking", "Extra inputs are not permitted"),
        ({k: v for k, v in GOOD.items() if k != "source"}, "source", "Field required"),
        ('{"at": "2026-03-13T00:00:00Z",', None, "Invalid JSON"),
        ("[1, 2]", None, "Input should be an object"),
    ],
)
def test_each_kind_of_bad_line_is_reported(
    tmp_path: Path, line: dict[str, Any] | str, field: str | None, reason: str
) -> None:
    path = write_lines(tmp_path / "bad.jsonl", good(), "", line)
    with pytest.raises(TimelineError) as caught:
        load_timeline(path)
    assert caught.value.line == 3
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:3: ")


def test_several_errors_on_one_line_are_all_reported(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", good(rank=0, media_type="film"))
    with pytest.raises(TimelineError, match=r"bad\.jsonl:1: rank: .*; media_type: ") as caught:
        load_timeline(path)
    assert caught.value.field == "rank"


def test_a_title_listed_twice_in_one_snapshot_is_an_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "dup.jsonl", good(rank=1), good(rank=2, title="Other"), good(rank=3)
    )
    with pytest.raises(TimelineError, match=r"dup\.jsonl:3: title: .*\(line 1\)"):
        load_timeline(path)


def test_empty_and_missing_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match="no observations"):
        load_timeline(write_lines(tmp_path / "empty.jsonl", "", "  "))
    with pytest.raises(TimelineError, match=r"nope\.jsonl: cannot read"):
        load_timeline(tmp_path / "nope.jsonl")


# --- property: whatever we can write, we read back -----------------------------------

entries_strategy = st.builds(
    TimelineEntry,
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ),
    source=st.sampled_from(["tmdb_trending_day", "boxoffice_daily", "streaming_top10"]),
    rank=st.integers(1, 10_000),
    media_type=st.sampled_from(["movie", "tv"]),
    title=st.text(min_size=1, max_size=40),
    year=st.none() | st.integers(1870, 2100),
    tmdb_id=st.none() | st.integers(1, 10**7),
    overview=st.text(max_size=80),
    url=st.none() | st.just("https://example.org/t"),
    signals=st.dictionaries(
        st.text(min_size=1, max_size=12), st.floats(allow_nan=False, allow_infinity=False)
    ),
)


@given(
    st.lists(
        entries_strategy, min_size=1, max_size=20, unique_by=lambda e: (e.source, e.at, e.title_id)
    )
)
def test_written_entries_read_back_equal_and_time_sorted(entries: list[TimelineEntry]) -> None:
    content = "\n".join(entry.model_dump_json() for entry in entries).encode()
    assert parse_timeline(content, name="prop.jsonl") == sorted(entries, key=lambda e: e.at)
