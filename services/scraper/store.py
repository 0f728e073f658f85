"""What the scraper keeps in Postgres: titles (resolved identities) and observations."""

from __future__ import annotations

from collections.abc import Sequence

from trendkit.contracts import TitleObserved
from trendkit.db.database import Database
from trendkit.db.models import ObservationRow, Title
from trendkit.db.upsert import insert_ignore, upsert


async def record_observations(db: Database, batch: Sequence[TitleObserved]) -> None:
    """Upsert the titles and append the observations, idempotently, in one transaction."""
    if not batch:
        return
    titles = [
        {
            "title_id": o.title_id,
            "name": o.title.name,
            "media_type": o.title.media_type,
            "year": o.title.year,
            "overview": o.title.overview,
            "tmdb_id": o.title.tmdb_id,
            "poster_url": o.title.poster_url,
            "genres": o.title.genres,
            "first_seen_at": o.observed_at,
            "last_seen_at": o.observed_at,
        }
        for o in sorted(batch, key=lambda o: o.observed_at)
    ]
    observations = [
        {
            "event_id": o.event_id,
            "title_id": o.title_id,
            "source": o.observation.source,
            "rank": o.observation.rank,
            "url": o.observation.url,
            "signals": o.observation.signals,
            "observed_at": o.observed_at,
        }
        for o in batch
    ]
    async with db.transaction() as session:
        await upsert(
            session,
            Title,
            titles,
            conflict=["title_id"],
            update=["name", "year", "overview", "tmdb_id", "poster_url", "genres", "last_seen_at"],
            only_if_newer="last_seen_at",
            keep_when_empty=["genres"],
        )
        await insert_ignore(session, ObservationRow, observations)
