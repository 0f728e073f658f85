"""The scorer on the real stack: its published history is a function of its inputs alone.

Whatever the batches, a crash and restart, or a replay from the archive, the updates on
``trends.scored`` are exactly those the board makes applying the same observations in
event-time order (``TrendBoard.apply``), the published history of an uninterrupted run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.scorer.archive import ScoreArchive
from services.scorer.board import TrendBoard
from services.scorer.replay import replay
from services.scorer.settings import ScorerSettings
from tests.factories import title_classified
from tests.kafka_io import Reader, produce, service_env, services
from trendkit.contracts import TITLES_CLASSIFIED, TRENDS_SCORED, TitleClassified, TitleScored
from trendkit.db.database import Database
from trendkit.db.models import ScorerInput, TrendScoreRow
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)  # months behind the wall clock: no clock ticks
SCORING = ScorerSettings().scoring_params()  # what the service runs with


def _stream(n: int) -> list[TitleClassified]:
    """n observations of 15 titles on 3 sources, three minutes apart, ranks shuffled."""
    rnd = random.Random(7)
    return [
        title_classified(
            name=f"Scorer Title {rnd.randrange(15)}",
            source=("tmdb_trending_day", "imdb_moviemeter", "netflix_top10")[i % 3],
            rank=rnd.randint(1, 40),
            observed_at=T0 + timedelta(minutes=3 * i),
            classified_id=f"scorer-test-{i:04d}",
        )
        for i in range(n)
    ]


def _expected(events: list[TitleClassified]) -> dict[str, str]:
    return {e.event_id: e.model_dump_json() for e in TrendBoard(params=SCORING).apply(events)}


def _score_ids(published: dict[str, str]) -> set[str]:
    """Return the ids of every window's score in the published events (the history's keys)."""
    return {
        w.event_id for v in published.values() for w in TitleScored.model_validate_json(v).windows
    }


async def _read_until(reader: Reader, want: set[str], within: float) -> dict[str, str]:
    """Read until every wanted update came; return each update's JSON by event id."""
    seen: dict[str, str] = {}

    def done(records: list) -> bool:  # type: ignore[type-arg]
        for record in records[len(seen_records) :]:
            value = record.value.decode()
            event_id = TitleScored.model_validate_json(value).event_id
            # A redelivered input may be scored again: it must come out as the same event.
            assert seen.setdefault(event_id, value) == value
        seen_records[:] = records
        return want <= seen.keys()

    seen_records: list = []  # type: ignore[type-arg]
    await reader.until(done, within=within)
    return seen


async def test_an_uninterrupted_run_publishes_what_the_board_makes_of_the_stream(
    settings: CommonSettings, tmp_path: Path
) -> None:
    events = _stream(90)
    expected = _expected(events)
    with services(settings, ("scorer",), tmp_path):
        async with Reader(settings, TRENDS_SCORED) as reader:
            await produce(settings, TITLES_CLASSIFIED, events)
            seen = await _read_until(reader, set(expected), within=90)
    assert set(seen) == set(expected)
    assert {k: TitleScored.model_validate_json(v) for k, v in seen.items()} == {
        k: TitleScored.model_validate_json(v) for k, v in expected.items()
    }


async def test_a_crash_and_restart_mid_stream_changes_no_published_score(
    settings: CommonSettings, tmp_path: Path
) -> None:
    events = _stream(90)
    first, second = events[:45], events[45:]
    expected = _expected(events)
    with services(settings, ("scorer",), tmp_path) as running:
        async with Reader(settings, TRENDS_SCORED) as reader:
            await produce(settings, TITLES_CLASSIFIED, first)
            await _read_until(reader, set(_expected(first)), within=90)
            # Killed without warning: whatever it had not recorded, it must redo the same.
            running.processes["scorer"].popen.send_signal(signal.SIGKILL)
            running.processes["scorer"].popen.wait(10)
            await produce(settings, TITLES_CLASSIFIED, second)
            running.restart("scorer")
            running.wait_healthy(timeout=60)
            seen = await _read_until(reader, set(expected), within=90)
    assert set(seen) == set(expected)

    db = Database(settings.database_url, service="test")
    await db.open()
    try:
        async with db.transaction() as session:
            stored = set(await session.scalars(select(TrendScoreRow.event_id)))
            archived = await session.scalar(select(func.count()).select_from(ScorerInput))
        scores = _score_ids(expected)
        assert stored == scores  # the history table holds each window's update once
        assert archived == len(events)
        # The archive replays to the very same history (what `trending replay` does).
        result = await replay(ScoreArchive(db, scorer=settings.topic("scorer")), SCORING, since=T0)
        assert result.inputs == len(events)
        assert result.matches
        assert result.recomputed == scores
    finally:
        await db.close()
    # The same from the command line, as an operator runs it.
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli.main", "replay", "--from", T0.isoformat(), "--check"],
        env={**os.environ, **service_env(settings)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert "identical to the stored history" in cli.stderr
    summary = json.loads(cli.stdout)
    assert summary["matches"] is True
    assert summary["updates"] == len(scores)
    assert summary["events"] == len(expected)
