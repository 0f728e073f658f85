"""The replay source: pacing, time shifting, looping and the events it produces."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scraper.replay import Replay, replay, timeline_provenance, to_observed
from services.scraper.timeline import DEMO_TIMELINE, TimelineEntry, load_timeline
from trendkit.contracts import Provenance, TitleObserved, make_title_id

T0 = datetime(2026, 3, 13, tzinfo=UTC)
START = datetime(2030, 1, 1, 12, tzinfo=UTC)
PROVENANCE = Provenance(provider="replay", model="test.jsonl", version="0123456789ab")

Item = TypeVar("Item")


class FakeClock:
    """A wall clock that only moves when the code under test sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.naps: list[float] = []
        self.yielded_at: list[datetime] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.naps.append(seconds)
        self.now += timedelta(seconds=seconds)


def entry(hours: float, title: str = "Low Orbit", rank: int = 1, **kw: Any) -> TimelineEntry:
    fields: dict[str, Any] = {
        "at": T0 + timedelta(hours=hours),
        "source": "tmdb_trending_day",
        "rank": rank,
        "media_type": "tv",
        "title": title,
        "year": 2025,
        **kw,
    }
    return TimelineEntry(**fields)


async def take(batches: AsyncIterator[Item], n: int | None = None) -> list[Item]:
    out = []
    async for batch in batches:
        out.append(batch)
        if n is not None and len(out) == n:
            break
    return out


async def play(entries: list[TimelineEntry], clock: FakeClock, **kw: Any) -> list[list[Any]]:
    kw.setdefault("speed", 1.0)
    kw.setdefault("start_at", START)
    batches = replay(entries, scraped_by=PROVENANCE, clock=clock, sleep=clock.sleep, **kw)
    out = []
    async for batch in batches:
        # one instant per batch, and never early
        assert len({event.observed_at for event in batch}) == 1
        assert batch[0].observed_at <= clock()
        clock.yielded_at.append(clock())
        out.append(batch)
    return out


THREE = [
    entry(0, "Low Orbit", 1),
    entry(0, "Three Tides", 2),
    entry(2, "Three Tides", 1),
    entry(2, "Low Orbit", 2),
    entry(5, "Low Orbit", 1, source="streaming_top10"),
]


# --- to_observed ----------------------------------------------------------------------


def test_to_observed_carries_the_entry_into_the_contract() -> None:
    item = entry(0, "Midnight Ferry", 4, media_type="movie", tmdb_id=77, signals={"x": 2})
    when = datetime(2030, 1, 1, 13, tzinfo=UTC)
    event = to_observed(item, observed_at=when, scraped_by=PROVENANCE)
    assert event.title_id == "tmdb:movie:77"
    assert event.observed_at == when
    assert (event.title.name, event.title.year, event.title.tmdb_id) == ("Midnight Ferry", 2025, 77)
    assert (event.observation.source, event.observation.rank) == ("tmdb_trending_day", 4)
    assert event.observation.signals == {"x": 2.0}
    assert event.scraped_by == PROVENANCE
    unknown = to_observed(entry(0), observed_at=when, scraped_by=PROVENANCE)
    assert unknown.title_id == make_title_id(media_type="tv", title="Low Orbit", year=2025)


def test_event_id_is_a_function_of_what_was_observed() -> None:
    when = datetime(2030, 1, 1, 13, tzinfo=UTC)
    same_instant = when.astimezone(timezone(timedelta(hours=2)))

    def event_id(item: TimelineEntry, at: datetime = when) -> str:
        return to_observed(item, observed_at=at, scraped_by=PROVENANCE).event_id

    assert event_id(entry(0)) == event_id(entry(0), same_instant)
    assert event_id(entry(0)) == event_id(entry(9))  # the timeline's own time does not count
    others = {
        event_id(entry(0), when + timedelta(microseconds=1)),
        event_id(entry(0, rank=2)),
        event_id(entry(0, source="streaming_top10")),
        event_id(entry(0, title="Three Tides")),
    }
    assert event_id(entry(0)) not in others
    assert len(others) == 4


def test_provenance_names_the_file_and_hashes_its_content(tmp_path: Path) -> None:
    content = DEMO_TIMELINE.read_bytes()
    path = tmp_path / "copy.jsonl"
    path.write_bytes(content)
    player = Replay.from_file(path, speed=3600)
    assert player.scraped_by == timeline_provenance("copy.jsonl", content)
    assert player.scraped_by.provider == "replay"
    assert player.scraped_by.model == "copy.jsonl"
    assert player.scraped_by.version == hashlib.sha256(content).hexdigest()[:12]
    path.write_bytes(content + b"\n")
    assert Replay.from_file(path).scraped_by.version != player.scraped_by.version


# --- pacing ---------------------------------------------------------------------------


async def test_replay_yields_every_entry_in_time_order_when_due() -> None:
    clock = FakeClock(START)
    batches = await play(THREE, clock)
    assert [[event.title.name for event in batch] for batch in batches] == [
        ["Low Orbit", "Three Tides"],
        ["Three Tides", "Low Orbit"],
        ["Low Orbit"],
    ]
    assert [batch[0].observed_at for batch in batches] == [
        START,
        START + timedelta(hours=2),
        START + timedelta(hours=5),
    ]
    assert clock.naps == [7200.0, 10800.0]
    assert clock.yielded_at == [batch[0].observed_at for batch in batches], "never late"


@pytest.mark.parametrize("speed", [1.0, 60.0, 3600.0, 0.5])
async def test_speed_compresses_playback_and_event_time_alike(speed: float) -> None:
    clock = FakeClock(START)
    batches = await play(THREE, clock, speed=speed)
    assert clock.now - START == timedelta(hours=5) / speed
    assert sum(clock.naps) == pytest.approx(5 * 3600 / speed)
    assert [batch[0].observed_at - START for batch in batches] == [
        timedelta(0),
        timedelta(hours=2) / speed,
        timedelta(hours=5) / speed,
    ]


async def test_the_demo_timeline_plays_through_at_an_hour_per_second() -> None:
    entries = load_timeline(DEMO_TIMELINE)
    clock = FakeClock(START)
    batches = await play(entries, clock, speed=3600)
    played = [event for batch in batches for event in batch]
    assert len(played) == len(entries)
    assert [event.observed_at for event in played] == sorted(event.observed_at for event in played)
    expected = [START + (e.at - entries[0].at) / 3600 for e in entries]
    assert [event.observed_at for event in played] == expected
    span = entries[-1].at - entries[0].at
    assert clock.now - START == span / 3600  # about 49 seconds for 49 hours
    assert clock.yielded_at == [batch[0].observed_at for batch in batches]
    assert len(batches) == len({e.at for e in entries})
    assert len({event.event_id for event in played}) == len(played)


async def test_a_start_in_the_past_backfills_without_sleeping() -> None:
    clock = FakeClock(START + timedelta(hours=3))
    batches = await play(THREE[:4], clock)  # the last instant is 2 h in
    assert clock.naps == []
    assert [batch[0].observed_at for batch in batches] == [START, START + timedelta(hours=2)]
    assert clock.yielded_at == [START + timedelta(hours=3)] * 2


async def test_a_clock_that_wakes_early_is_waited_out() -> None:
    class EarlyClock(FakeClock):
        async def sleep(self, seconds: float) -> None:
            await super().sleep(seconds * 0.5 if seconds > 1 else seconds)

    clock = EarlyClock(START)
    batches = await play(THREE, clock)
    assert len(batches) == 3
    assert clock.now == START + timedelta(hours=5)
    assert len(clock.naps) > 2


# --- looping --------------------------------------------------------------------------


async def test_loop_keeps_observed_at_strictly_increasing() -> None:
    clock = FakeClock(START)
    batches = await take(
        replay(
            THREE,
            speed=3600,
            start_at=START,
            scraped_by=PROVENANCE,
            loop=True,
            clock=clock,
            sleep=clock.sleep,
        ),
        n=3 * 4,
    )
    times = [batch[0].observed_at for batch in batches]
    assert all(earlier < later for earlier, later in itertools.pairwise(times))
    # the next pass starts one snapshot interval (the smallest gap, 2 h) after the last one
    period = timedelta(hours=5 + 2)
    assert times[3] - times[0] == period / 3600
    assert times[9] - times[0] == 3 * period / 3600
    names = [[event.title.name for event in batch] for batch in batches]
    assert names[:3] == names[3:6] == names[9:12]
    ids = [{event.event_id for event in batch} for batch in batches]
    assert not ids[0] & ids[3], "a new pass is new observations"


async def test_loop_gap_can_be_chosen() -> None:
    player = Replay(THREE, scraped_by=PROVENANCE, loop=True, loop_gap=timedelta(hours=10))
    times = [due for due, _ in itertools.islice(player.schedule(START), 4)]
    assert times[3] - times[0] == timedelta(hours=15)


def test_a_single_instant_loops_hourly() -> None:
    player = Replay([entry(0)], scraped_by=PROVENANCE, speed=2, loop=True)
    times = [due for due, _ in itertools.islice(player.schedule(START), 3)]
    assert times == [START, START + timedelta(minutes=30), START + timedelta(minutes=60)]


# --- determinism and the contract ------------------------------------------------------


async def test_same_input_gives_the_same_event_ids_and_a_new_anchor_new_ones() -> None:
    entries = load_timeline(DEMO_TIMELINE)[:200]

    async def ids(start_at: datetime) -> list[str]:
        clock = FakeClock(start_at)
        batches = await play(entries, clock, speed=3600, start_at=start_at)
        return [event.event_id for batch in batches for event in batch]

    first, again = await ids(START), await ids(START)
    assert first == again
    assert not set(first) & set(await ids(START + timedelta(seconds=1)))


async def test_every_event_survives_the_wire() -> None:
    clock = FakeClock(START)
    player = Replay.from_file(DEMO_TIMELINE, speed=7200)
    async for batch in player.play(start_at=START, clock=clock, sleep=clock.sleep):
        for event in batch:
            assert TitleObserved.model_validate_json(event.model_dump_json()) == event
            assert event.scraped_by.model == DEMO_TIMELINE.name


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf")])
def test_nonsense_speeds_are_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        Replay(THREE, scraped_by=PROVENANCE, speed=speed)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Replay([], scraped_by=PROVENANCE)
    with pytest.raises(ValueError, match="loop_gap"):
        Replay(THREE, scraped_by=PROVENANCE, loop_gap=timedelta(0))
    with pytest.raises(ValueError, match="timezone"):
        next(Replay(THREE, scraped_by=PROVENANCE).schedule(datetime(2030, 1, 1)))


# --- property: the schedule is the timeline, shifted and scaled -----------------------


@given(
    offsets=st.lists(st.integers(0, 72 * 3600), min_size=1, max_size=30),
    speed=st.floats(0.01, 100_000),
    start_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
)
def test_schedule_shifts_and_scales_the_timeline(
    offsets: list[int], speed: float, start_at: datetime
) -> None:
    entries = [entry(s / 3600, title=f"T{i}", rank=i + 1) for i, s in enumerate(offsets)]
    player = Replay(entries, scraped_by=PROVENANCE, speed=speed, loop=True)
    first = min(e.at for e in entries)
    instants = len({e.at for e in entries})
    schedule = list(itertools.islice(player.schedule(start_at), 3 * instants))
    one_pass = schedule[:instants]
    assert sorted(title for _, batch in one_pass for title in (e.title.name for e in batch)) == (
        sorted(e.title for e in entries)
    )
    for due, batch in one_pass:
        for event in batch:
            source = next(e for e in entries if e.title == event.title.name)
            assert event.observed_at == due == start_at + (source.at - first) / speed
    dues = [due for due, _ in schedule]
    assert all(earlier <= later for earlier, later in itertools.pairwise(dues))
    assert dues[instants - 1] < dues[instants] < dues[2 * instants]
