"""The pipeline on the real broker and Postgres, with each service a real process."""

from __future__ import annotations

import base64
import json
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.enricher.domain import LexiconEnricher
from tests.factories import title_observed
from tests.kafka_io import consume_until, produce, services
from trendkit.contracts import (
    TITLES_CLASSIFIED,
    TITLES_RAW,
    TRENDS_SCORED,
    DeadLetter,
    TitleClassified,
    TitleObserved,
    TitleScored,
    derive_event_id,
    dlq_topic,
    now_utc,
)
from trendkit.db.database import Database
from trendkit.db.models import ClassificationRow, CurrentScore, EnrichmentRow, ObservationRow
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

STAGES = ("enricher", "classifier", "scorer")


def _observations(n: int, *, source: str = "tmdb_trending_day") -> list[TitleObserved]:
    start = now_utc() - timedelta(minutes=30)
    return [
        title_observed(
            name=f"Pipeline Title {i}",
            media_type="movie" if i % 3 else "tv",
            rank=i % 50 + 1,
            source=source,
            overview=f"Story number {i}: a detective hunts a ghost through a haunted town.",
            observed_at=start + timedelta(seconds=i),
        )
        for i in range(n)
    ]


async def _count(db: Database, column: object) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]


async def test_raw_titles_come_out_scored_and_in_postgres(
    settings: CommonSettings, tmp_path: Path
) -> None:
    sent = _observations(30)
    with services(settings, STAGES, tmp_path):
        await produce(settings, TITLES_RAW, sent)
        want = {o.title_id for o in sent}

        def all_scored(records: list) -> bool:  # type: ignore[type-arg]
            seen = {TitleScored.model_validate_json(r.value).title_id for r in records}
            return want <= seen

        records = await consume_until(settings, TRENDS_SCORED, all_scored, within=90)
    scored = [TitleScored.model_validate_json(r.value) for r in records]
    assert want <= {s.title_id for s in scored}
    # Each new title came out once, with all three windows in one event.
    first = {s.title_id: s for s in reversed(scored)}
    assert {tuple(w.window for w in first[t].windows) for t in want} == {("live", "day", "week")}
    assert all(r.key == s.title_id.encode() for r, s in zip(records, scored, strict=True))

    db = Database(settings.database_url, service="test")
    await db.open()
    try:
        assert await _count(db, ClassificationRow.event_id) == 30
        # The keyword lexicon (these tests' enricher) is cheaper to rerun than to cache.
        assert await _count(db, EnrichmentRow.content_hash) == 0
        async with db.transaction() as session:
            current = (await session.scalars(select(CurrentScore))).all()
        assert {(c.title_id, c.window) for c in current} == {
            (t, w) for t in want for w in ("live", "day", "week")
        }
        top = min((c for c in current if c.window == "day"), key=lambda c: c.rank)
        assert top.score == 100.0
    finally:
        await db.close()


async def test_a_malformed_message_is_dead_lettered_and_the_rest_flow(
    settings: CommonSettings, tmp_path: Path
) -> None:
    good = _observations(6)
    bad_payload = json.loads(good[0].model_dump_json())
    bad_payload["observation"]["rank"] = -3
    bad = json.dumps(bad_payload).encode()
    # Same key as its neighbours: same partition, so the ones behind it must still flow.
    key = good[0].key
    stream: list = [*good[:3], (key, b"{not json"), (key, bad), *good[3:]]  # type: ignore[type-arg]
    with services(settings, ("enricher",), tmp_path):
        await produce(settings, TITLES_RAW, stream)
        dead = await consume_until(
            settings, dlq_topic(TITLES_RAW), lambda r: len(r) >= 2, within=60
        )
        enriched = await consume_until(
            settings, "titles.enriched", lambda r: len(r) >= 6, within=60
        )
    letters = [DeadLetter.model_validate_json(r.value) for r in dead]
    assert len(letters) == 2
    by_value = {base64.b64decode(x.value): x for x in letters}
    assert by_value[bad].error.startswith("TitleObserved rejected: observation.rank:")
    assert "Invalid JSON" in by_value[b"{not json"].error
    assert all(x.service == "enricher" and x.attempts == 1 for x in letters)
    assert all(x.topic == TITLES_RAW and x.key == key.decode() for x in letters)
    assert len({r.key for r in enriched}) == 6


async def test_restarting_a_consumer_mid_stream_loses_and_duplicates_nothing(
    settings: CommonSettings, tmp_path: Path
) -> None:
    sent = _observations(600)
    with services(settings, ("enricher", "classifier"), tmp_path) as running:
        await produce(settings, TITLES_RAW, sent[:300])
        await consume_until(settings, TITLES_CLASSIFIED, lambda r: len(r) >= 100, within=60)
        # Kill without warning: uncommitted work must be redone, not lost.
        running.processes["classifier"].popen.send_signal(signal.SIGKILL)
        running.processes["classifier"].popen.wait(10)
        await produce(settings, TITLES_RAW, sent[300:])
        running.restart("classifier")
        running.wait_healthy(timeout=60)
        records = await consume_until(
            settings,
            TITLES_CLASSIFIED,
            lambda r: len({x.value for x in r}) >= 600,
            within=120,
        )
    classified = [TitleClassified.model_validate_json(r.value) for r in records]
    enriched_ids = {derive_event_id(o.event_id, *_enricher_suffix()) for o in sent}
    assert {c.source_event_id for c in classified} == enriched_ids
    # Every input came out; a redelivered input came out as the very same event.
    by_id: dict[str, str] = {}
    for c in classified:
        assert by_id.setdefault(c.event_id, c.model_dump_json()) == c.model_dump_json()
    assert len(by_id) == 600
    db = Database(settings.database_url, service="test")
    await db.open()
    try:
        assert await _count(db, ClassificationRow.event_id) == 600
        assert await _count(db, ObservationRow.event_id) == 0  # the scraper did not run
    finally:
        await db.close()


def _enricher_suffix() -> tuple[str, ...]:
    e = LexiconEnricher()
    return ("enricher", e.provider, e.model, e.version)
