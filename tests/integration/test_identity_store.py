"""Identity resolution against a real PostgreSQL: ids survive a reload, saves are idempotent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.scraper.identity import TitleIndex, load_index, save_aliases
from services.scraper.store import record_observations
from tests.factories import title_observed
from trendkit.contracts import MediaType
from trendkit.db.database import Database
from trendkit.db.models import Title, TitleAlias

pytestmark = pytest.mark.integration

SPELLINGS: list[tuple[str, int | None, MediaType, int | None]] = [
    ("The Matrix (1999)", None, "movie", 603),
    ("Matrix, The", 1999, "movie", None),
    ("Stranger Things", 2016, "tv", None),
    ("Stranger Thigns", 2016, "tv", None),
    ("Shōgun", 2024, "tv", None),
    ("Shogun", 2023, "tv", None),
]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, service="test")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def count(db: Database, model: type[Title] | type[TitleAlias]) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_ids_survive_a_reload_and_saves_are_idempotent(db: Database) -> None:
    index = await load_index(db)
    assert len(index) == 0
    first = [index.resolve(*spelling) for spelling in SPELLINGS]
    await save_aliases(db, first)
    titles, aliases = await count(db, Title), await count(db, TitleAlias)

    reloaded = await load_index(db)
    again = [reloaded.resolve(r.name, r.year, r.media_type, r.tmdb_id) for r in first]
    await save_aliases(db, again)
    await save_aliases(db, first)

    assert [r.title_id for r in again] == [r.title_id for r in first]
    assert first[0].title_id == first[1].title_id == "tmdb:movie:603"
    assert first[2].title_id == first[3].title_id
    assert first[4].title_id == first[5].title_id
    assert (titles, aliases) == (3, 5)
    assert (await count(db, Title), await count(db, TitleAlias)) == (titles, aliases)


async def test_upgrade_to_tmdb_id_persists(db: Database) -> None:
    index = TitleIndex()
    hashed = index.resolve("The Glass Orchard", 2025, "movie")
    typo = index.resolve("The Glass Orchad", 2025, "movie")
    await save_aliases(db, [hashed, typo])

    index = await load_index(db)
    upgraded = index.resolve("Glass Orchard, The", 2025, "movie", tmdb_id=42)
    await save_aliases(db, [upgraded])

    reloaded = await load_index(db)
    assert reloaded.resolve("The Glass Orchad", 2025, "movie").title_id == "tmdb:movie:42"
    assert reloaded.resolve("The Glass Orchard", 2024, "movie").title_id == "tmdb:movie:42"
    assert reloaded.canonical(hashed.title_id) == "tmdb:movie:42"
    # The hash id's row stays: past events still point at it.
    assert await count(db, Title) == 2


async def test_a_source_without_genres_does_not_erase_tmdbs(db: Database) -> None:
    first = title_observed(name="Orbit Street", source="tmdb_popular_movie")
    tmdb = first.model_copy(
        update={"title": first.title.model_copy(update={"genres": ["Science Fiction"]})}
    )
    later = title_observed(
        name="Orbit Street",
        title_id=first.title_id,
        source="imdb_moviemeter",
        observed_at=first.observed_at + timedelta(hours=1),
    )
    await record_observations(db, [tmdb])
    await record_observations(db, [later])
    async with db.transaction() as session:
        stored = await session.get(Title, first.title_id)
    assert stored is not None
    assert stored.genres == ["Science Fiction"]
    assert stored.last_seen_at == later.observed_at  # the rest of the row did move on
