"""A training set built from Postgres: TMDb genres label it, the LLM's come along flagged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.classifier.datasets import build, read_db
from trendkit.contracts import now_utc
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow, Title

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, service="test-dataset")
    await database.open()
    async with database.transaction() as session:
        now = now_utc()
        for i, genres in enumerate((["Drama"], ["Horror", "Thriller"], [], [])):
            session.add(
                Title(
                    title_id=f"movie:{i}",
                    name=f"Title {i}",
                    media_type="movie",
                    overview=f"Overview {i}",
                    genres=genres,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        for title_id, provider, genres in (
            ("movie:0", "openai", ["Drama", "Romance"]),
            ("movie:2", "openai", ["Comedy"]),
            ("movie:3", "local", ["Action"]),  # a local guess is not a label source
        ):
            session.add(
                EnrichmentRow(
                    content_hash=f"h-{title_id}",
                    prompt_version="p1",
                    model="m",
                    provider=provider,
                    title_id=title_id,
                    summary="s",
                    genres=genres,
                    hype_score=1.0,
                )
            )
    yield database
    await database.close()


async def test_tmdb_genres_label_and_llm_genres_come_along(db: Database) -> None:
    collected = await read_db(db)
    rows = {r.id: r for r in collected.rows}
    assert set(rows) == {"movie:0", "movie:1"}
    assert rows["movie:0"].genres == ("Drama",)
    assert rows["movie:0"].llm_genres == ("Drama", "Romance")
    assert rows["movie:1"].llm_genres is None
    assert collected.dropped == {"no source genres": 2}


async def test_llm_genres_label_only_when_asked_and_are_flagged(db: Database) -> None:
    _, card = build(await read_db(db, llm_labels=True))
    assert card.rows == 3
    assert card.label_sources == {"tmdb": 2, "llm": 1}
    assert card.source == "db"
