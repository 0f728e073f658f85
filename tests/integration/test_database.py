"""The database layer against a real PostgreSQL: migrations, idempotent upserts, engines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from trendkit.db import create_engine, insert_ignore, session_factory, upsert
from trendkit.db.migrate import check, current, downgrade, upgrade
from trendkit.db.models import EnrichmentRow, ModelVersion, ObservationRow, Title, metadata

pytestmark = pytest.mark.integration

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HEAD = "0006"


async def table_names(url: str) -> set[str]:
    engine = create_engine(url, service="test-inspect")
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_upgrade_downgrade_and_upgrade_again(database_url: str) -> None:
    expected = set(metadata.tables)

    await upgrade(database_url)
    assert await table_names(database_url) == expected | {"alembic_version"}
    assert await current(database_url) == HEAD

    # Steps down and up again (0005 retypes columns in place).
    await downgrade(database_url, "0004")
    assert await current(database_url) == "0004"
    await upgrade(database_url)

    await downgrade(database_url, "base")
    assert await table_names(database_url) == {"alembic_version"}
    assert await current(database_url) is None

    # Services starting together all migrate at start-up: the lock makes that safe.
    await asyncio.gather(*(upgrade(database_url) for _ in range(4)))
    assert await table_names(database_url) == expected | {"alembic_version"}
    assert await current(database_url) == HEAD


async def test_title_cards_migration_moves_descriptions_out_of_current_scores_and_back(
    database_url: str,
) -> None:
    """0006: each window's copy of the published event becomes the row's score columns
    and one card per title; downgrading writes payloads back that the old readers take."""
    from services.api.queries import current_items
    from tests.factories import title_scored, trend_scored
    from trendkit.contracts import TrendScored

    day = trend_scored(window="day", rank=2, previous_rank=5, observed_at=T0)
    week = trend_scored(window="week", rank=1, observed_at=T0)
    live = trend_scored(title_id="tmdb:tv:7", name="Slow Horses", window="live", observed_at=T0)
    rows = [  # as 0005's scorer stored them: the whole event per window, or (v1) the item
        (day, title_scored(day, week).model_dump_json()),
        (week, title_scored(day, week).model_dump_json()),
        (live, live.model_dump_json()),
    ]
    await upgrade(database_url)
    await downgrade(database_url, "0005")
    engine = create_engine(database_url, service="test-migration")
    try:
        async with engine.begin() as conn:
            for item, payload in rows:
                await conn.execute(
                    text(
                        'INSERT INTO current_scores (title_id, "window", score, rank,'
                        " components, explanation, payload, scored_at) VALUES (:t, :w, :s,"
                        " :r, CAST(:c AS json), :e, CAST(:p AS json), :at)"
                    ),
                    {
                        "t": item.title_id,
                        "w": item.window,
                        "s": item.score,
                        "r": item.rank,
                        "c": item.components.model_dump_json(),
                        "e": item.explanation,
                        "p": payload,
                        "at": item.observed_at,
                    },
                )
        await upgrade(database_url)
        async with session_factory(engine)() as session, session.begin():
            items = await current_items(session)
        assert sorted(items, key=lambda i: i.window) == sorted(
            [day, week, live], key=lambda i: i.window
        )

        await downgrade(database_url, "0005")
        async with engine.begin() as conn:
            payloads = (await conn.execute(text("SELECT payload FROM current_scores"))).scalars()
            restored = [TrendScored.model_validate(p) for p in payloads]
        assert sorted(restored, key=lambda i: i.window) == sorted(
            [day, week, live], key=lambda i: i.window
        )
    finally:
        await engine.dispose()


async def test_models_match_the_migrations(database_url: str) -> None:
    await upgrade(database_url)

    await check(database_url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(database_url)
    engine = create_engine(database_url, service="test-database")
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


def make_title(title_id: str, *, name: str = "The Matrix", seen: datetime = T0) -> dict[str, Any]:
    return {
        "title_id": title_id,
        "name": name,
        "media_type": "movie",
        "year": 1999,
        "overview": "",
        "tmdb_id": None,
        "poster_url": None,
        "first_seen_at": seen,
        "last_seen_at": seen,
    }


def make_observation(event_id: str, *, rank: int = 1) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "title_id": "tmdb:movie:603",
        "source": "tmdb_trending_day",
        "rank": rank,
        "url": None,
        "signals": {"popularity": 12.5},
        "observed_at": T0,
    }


def new_ids(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"tmdb:movie:{run}{i}" for i in range(n)]


async def titles_by_id(session: AsyncSession, ids: list[str]) -> dict[str, Title]:
    rows = await session.scalars(select(Title).where(Title.title_id.in_(ids)))
    return {row.title_id: row for row in rows}


async def test_upserting_twice_keeps_one_row_each_and_updates_changed_columns(
    session: AsyncSession,
) -> None:
    ids = new_ids(3)
    later = T0 + timedelta(hours=1)
    update = ["name", "last_seen_at"]
    await upsert(session, Title, [make_title(i) for i in ids], conflict=["title_id"], update=update)
    await session.commit()
    first = await titles_by_id(session, ids)

    renamed = [make_title(i, name="Matrix, The", seen=later) for i in ids]
    renamed[2]["first_seen_at"] = later
    await upsert(session, Title, renamed, conflict=["title_id"], update=update)
    await upsert(session, Title, renamed, conflict=["title_id"], update=update)
    await session.commit()
    session.expunge_all()
    second = await titles_by_id(session, ids)

    assert sorted(second) == sorted(ids)
    assert {t.name for t in second.values()} == {"Matrix, The"}
    assert {t.last_seen_at for t in second.values()} == {later}
    # Columns outside `update` keep what the first insert wrote.
    assert {t.first_seen_at for t in second.values()} == {T0}
    assert all(second[i].updated_at >= first[i].updated_at for i in ids)


async def test_duplicate_keys_in_one_batch_keep_the_last_row(session: AsyncSession) -> None:
    a, b = new_ids(2)
    rows = [make_title(a, name="first"), make_title(b), make_title(a, name="last")]

    await upsert(session, Title, rows, conflict=["title_id"], update=["name"], chunk_size=2)
    await session.commit()

    stored = await titles_by_id(session, [a, b])
    assert len(stored) == 2
    assert stored[a].name == "last"


async def test_only_if_newer_ignores_a_late_older_row(session: AsyncSession) -> None:
    (title_id,) = new_ids(1)
    newer, older = T0 + timedelta(days=1), T0
    update = ["name", "last_seen_at"]
    await upsert(
        session,
        Title,
        [make_title(title_id, name="new", seen=newer)],
        conflict=["title_id"],
        update=update,
        only_if_newer="last_seen_at",
    )
    await upsert(
        session,
        Title,
        [make_title(title_id, name="stale", seen=older)],
        conflict=["title_id"],
        update=update,
        only_if_newer="last_seen_at",
    )
    await session.commit()

    stored = (await titles_by_id(session, [title_id]))[title_id]
    assert (stored.name, stored.last_seen_at) == ("new", newer)


async def test_insert_ignore_on_observations_is_idempotent(session: AsyncSession) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]

    await insert_ignore(session, ObservationRow, [make_observation(i) for i in ids])
    await session.commit()
    await insert_ignore(session, ObservationRow, [make_observation(i, rank=9) for i in ids])
    await session.commit()

    stored = (
        await session.scalars(select(ObservationRow).where(ObservationRow.event_id.in_(ids)))
    ).all()
    assert len(stored) == 3
    assert {(row.rank, row.signals["popularity"]) for row in stored} == {(1, 12.5)}
    assert all(row.ingested_at.tzinfo is not None for row in stored)


async def test_a_large_batch_round_trips(session: AsyncSession) -> None:
    ids = [str(uuid.uuid4()) for _ in range(1234)]

    await insert_ignore(session, ObservationRow, [make_observation(i) for i in ids])
    await session.commit()

    count = await session.scalar(
        select(func.count()).select_from(ObservationRow).where(ObservationRow.event_id.in_(ids))
    )
    assert count == 1234


async def test_arrays_and_json_round_trip_through_the_models(session: AsyncSession) -> None:
    content_hash = uuid.uuid4().hex
    row = {
        "content_hash": content_hash,
        "prompt_version": "v1",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "title_id": "tmdb:movie:603",
        "summary": "A hacker learns the truth.",
        "vibe_tags": ["mind-bending", "dystopian"],
        "free_tags": [],
        "genres": ["sci-fi", "action"],
        "hype_score": 87.5,
        "hype_reason": "anniversary re-release",
        "audience": None,
    }
    key = ["content_hash", "prompt_version", "model"]

    await upsert(session, EnrichmentRow, [row], conflict=key, update=["summary"])
    await session.commit()

    stored = await session.get(EnrichmentRow, (content_hash, "v1", "gpt-4o-mini"))
    assert stored is not None
    assert stored.vibe_tags == ["mind-bending", "dystopian"]
    assert stored.genres == ["sci-fi", "action"]
    assert stored.free_tags == []


async def test_only_one_production_model_per_name(session: AsyncSession) -> None:
    name = f"genres-{uuid.uuid4().hex[:8]}"
    session.add(ModelVersion(version=f"{name}-1", name=name, kind="xgboost", stage="production"))
    await session.commit()

    session.add(ModelVersion(version=f"{name}-2", name=name, kind="bert", stage="production"))
    with pytest.raises(IntegrityError, match="uq_models_name_production"):
        await session.commit()
    await session.rollback()


async def test_engine_connections_carry_the_service_name(database_url: str) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    plain_url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    engine = create_engine(plain_url, service=service)
    try:
        async with engine.connect() as conn:
            own = await conn.scalar(
                text("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            )
            seen = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": service},
            )
    finally:
        await engine.dispose()

    assert own == service
    assert seen == 1


def scorer_inputs(batch: str, n: int = 150) -> list[dict[str, Any]]:
    """Rows for ``scorer_inputs``: 150 by default, above the threshold where COPY is used.

    The first has no payload (a clock tick's), the others JSON text (as the scorer sends it).
    """
    return [
        {
            "event_id": f"{batch}-{i}",
            "title_id": f"tmdb:movie:{i}",
            "partition": 0,
            "observed_at": T0,
            "late": False,
            "payload": None if i == 0 else f'{{"n": {i}}}',
        }
        for i in range(n)
    ]


async def archive(executor: Any, rows: list[dict[str, Any]]) -> None:
    from trendkit.db.models import ScorerInput
    from trendkit.db.upsert import copy_upsert

    await copy_upsert(executor, ScorerInput, rows, conflict=["event_id"])


async def test_copy_upsert_as_the_first_statement_of_a_transaction_keeps_its_rows(
    session: AsyncSession,
) -> None:
    """SQLAlchemy begins an asyncpg transaction lazily, at its first statement. A COPY sent
    on the driver connection before any ran outside the transaction: into a staging table
    that empties itself at commit, so the rows were gone before they were applied."""
    from trendkit.db.models import ScorerInput

    # The first batch creates the staging table; the later ones find it there and COPY
    # before anything else in their transaction.
    for batch in range(3):
        async with session.begin():
            await archive(session, scorer_inputs(f"e{batch}"))
    async with session.begin():
        stored = await session.scalar(select(func.count()).select_from(ScorerInput))
    assert stored == 450


@pytest.mark.parametrize("rows", [3, 150])
async def test_copy_upsert_matches_upsert_for_small_and_large_batches(
    session: AsyncSession, rows: int
) -> None:
    from trendkit.db.models import CurrentScore
    from trendkit.db.upsert import copy_upsert

    def row(i: int, score: float, at: datetime) -> dict[str, Any]:
        return {
            "title_id": f"tmdb:movie:{i}",
            "window": "day",
            "event_id": f"e-{i}-{score}",
            "score": score,
            "rank": i,
            "components": f'{{"raw": {score}}}',  # JSON text, as the scorer passes it
            "explanation": "",
            "scored_at": at,
        }

    update = ["event_id", "score", "rank", "components", "scored_at"]
    first = [row(i, 1.0, T0) for i in range(1, rows + 1)]
    async with session.begin():
        await copy_upsert(
            session,
            CurrentScore,
            first,
            conflict=["title_id", "window"],
            update=update,
            only_if_newer="scored_at",
        )
    # A late (older) write is ignored, a newer one wins; both idempotent.
    late = [row(1, -5.0, T0 - timedelta(hours=1)), row(2, 9.0, T0 + timedelta(hours=1))]
    async with session.begin():
        await copy_upsert(
            session,
            CurrentScore,
            late * 2,
            conflict=["title_id", "window"],
            update=update,
            only_if_newer="scored_at",
        )
    async with session.begin():
        stored = {r.title_id: r for r in (await session.scalars(select(CurrentScore))).all()}
    assert len(stored) == rows
    assert stored["tmdb:movie:1"].score == 1.0
    assert stored["tmdb:movie:2"].score == 9.0
    assert stored["tmdb:movie:2"].event_id == "e-2-9.0"
    assert stored["tmdb:movie:2"].components == {"raw": 9.0}
    assert stored["tmdb:movie:3"].components == {"raw": 1.0}


async def test_copy_upsert_into_an_append_only_table_skips_stored_rows_and_keeps_the_rest(
    session: AsyncSession,
) -> None:
    """New rows are COPied straight into the table; a batch with a stored row among them
    (a redelivery) falls back to the staging table within the same transaction, which
    goes on: the stored rows stay as they were, the new ones go in."""
    from trendkit.db.models import ScorerInput

    staging = text("SELECT to_regclass('pg_temp._staging_scorer_inputs')")
    async with session.begin():
        await archive(session, scorer_inputs("s"))
        assert await session.scalar(staging) is None  # all new: no staging table
    again = [r | {"payload": '{"changed": true}'} for r in scorer_inputs("s")]
    async with session.begin():
        await archive(session, again[:50] + scorer_inputs("t"))
        assert await session.scalar(staging) is not None  # a stored row: staged
        await archive(session, scorer_inputs("u"))  # the transaction is still usable
    async with session.begin():
        stored = await session.scalar(select(func.count()).select_from(ScorerInput))
        kept = await session.get(ScorerInput, "s-7")
        added = await session.get(ScorerInput, "t-7")
    assert stored == 450
    assert kept is not None
    assert kept.payload == {"n": 7}
    assert added is not None
    assert added.payload == {"n": 7}


async def test_a_driver_transaction_commits_or_rolls_back_and_returns_its_connection(
    database_url: str,
) -> None:
    from trendkit.db.database import Database
    from trendkit.db.models import ScorerInput

    db = Database(database_url, service="test-driver", pool_size=1)
    await db.open()
    try:
        # More transactions than the pool holds: each gives its connection back.
        for batch, n in enumerate([150, 3, 150, 3]):  # COPY-staged and executemany
            async with db.driver_transaction() as conn:
                await archive(conn, scorer_inputs(f"d{batch}", n))

        async def fail_after_writing() -> None:
            async with db.driver_transaction() as conn:
                await archive(conn, scorer_inputs("d9"))
                raise RuntimeError("a failure after the writes")

        with pytest.raises(RuntimeError, match="after the writes"):
            await fail_after_writing()
        async with db.transaction() as session:
            stored = await session.scalar(select(func.count()).select_from(ScorerInput))
            tick = await session.get(ScorerInput, "d0-0")
            later = await session.get(ScorerInput, "d2-7")
        assert stored == 306  # the failed transaction left nothing
        assert tick is not None
        assert tick.payload is None  # JSON null, as SQLAlchemy stores it
        assert later is not None
        assert later.payload == {"n": 7}
    finally:
        await db.close()


async def test_copy_upsert_after_a_rolled_back_first_use_of_its_connection(
    database_url: str,
) -> None:
    """The staging table is created inside the caller's transaction; when that transaction
    rolls back, the table is gone with it, and the next COPY on the connection must not
    take it for made (every later batch would fail)."""
    from trendkit.db.database import Database
    from trendkit.db.models import ScorerInput

    db = Database(database_url, service="test-staging", pool_size=1)
    await db.open()
    try:

        async def first_use_fails() -> None:
            async with db.driver_transaction() as conn:
                await archive(conn, scorer_inputs("r0"))
                raise ConnectionError("the broker did not acknowledge")

        with pytest.raises(ConnectionError):
            await first_use_fails()
        async with db.driver_transaction() as conn:
            await archive(conn, scorer_inputs("r1"))
        async with db.transaction() as session:
            stored = await session.scalar(select(func.count()).select_from(ScorerInput))
        assert stored == 150
    finally:
        await db.close()


async def test_upsert_on_the_driver_takes_rows_whatever_their_key_order(database_url: str) -> None:
    """The driver SQL lists the table's columns in the table's order; rows built with their
    keys in another order were refused there ("need SQLAlchemy's binding"), which the
    scorer's current_scores rows once hit for every batch under a hundred titles."""
    from trendkit.db.database import Database
    from trendkit.db.models import ScorerInput
    from trendkit.db.upsert import upsert

    rows = [{"payload": f'{{"n": {i}}}', **row} for i, row in enumerate(scorer_inputs("k", 3))]
    assert next(iter(rows[0])) == "payload"  # not the table's first column
    db = Database(database_url, service="test-key-order", pool_size=1)
    await db.open()
    try:
        async with db.driver_transaction() as conn:
            await upsert(conn, ScorerInput, rows, conflict=["event_id"])
        async with db.transaction() as session:
            stored = await session.get(ScorerInput, "k-2")
        assert stored is not None
        assert stored.payload == {"n": 2}
    finally:
        await db.close()
