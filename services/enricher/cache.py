"""Never pay twice for an answer: enrichments cached hot in Redis, durably in Postgres.

The key is (content hash of the title's inputs, prompt version, model): a title whose
name, year, media type and overview did not change is never sent to a provider again;
a changed overview, a new prompt or another model makes a new key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select, tuple_

from services.enricher.metrics import EnricherMetrics
from trendkit.contracts import Enrichment, Provenance
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow
from trendkit.db.upsert import insert_ignore
from trendkit.hotcache import RedisModelCache

Key = tuple[str, str, str]  # content hash, prompt version, model


def _redis_key(key: Key) -> str:
    return ":".join(key)


class EnrichmentCache:
    """Look up Redis, then Postgres (refilling Redis); store new answers in both."""

    def __init__(
        self,
        db: Database,
        hot: RedisModelCache[Enrichment] | None,
        metrics: EnricherMetrics,
    ) -> None:
        self.db = db
        self.hot = hot
        self.metrics = metrics

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Enrichment]:
        """Return what is cached among ``keys``; count hits per tier."""
        wanted = set(keys)
        found: dict[Key, Enrichment] = {}
        if self.hot is not None and wanted:
            by_redis_key = {_redis_key(k): k for k in wanted}
            for redis_key, enrichment in (await self.hot.get_many(by_redis_key)).items():
                found[by_redis_key[redis_key]] = enrichment
            self.metrics.cache_hits.labels("redis").inc(len(found))
        cold = wanted - found.keys()
        if cold:
            durable = await self._from_postgres(cold)
            self.metrics.cache_hits.labels("postgres").inc(len(durable))
            if self.hot is not None:
                await self.hot.put_many({_redis_key(k): e for k, e in durable.items()})
            found.update(durable)
        return found

    async def put_many(self, new: Mapping[Key, Enrichment], title_ids: Mapping[Key, str]) -> None:
        """Store new answers: Postgres first (the record), then Redis (the copy)."""
        if not new:
            return
        rows = [
            {
                "content_hash": key[0],
                "prompt_version": key[1],
                "model": key[2],
                "provider": e.provenance.provider,
                "title_id": title_ids[key],
                "summary": e.summary,
                "vibe_tags": e.vibe_tags,
                "free_tags": e.free_tags,
                "genres": e.genres,
                "hype_score": e.hype_score,
                "hype_reason": e.hype_reason,
                "audience": e.audience,
            }
            for key, e in new.items()
        ]
        async with self.db.transaction() as session:
            await insert_ignore(session, EnrichmentRow, rows)
        if self.hot is not None:
            await self.hot.put_many({_redis_key(k): e for k, e in new.items()})

    async def _from_postgres(self, keys: set[Key]) -> dict[Key, Enrichment]:
        columns = (EnrichmentRow.content_hash, EnrichmentRow.prompt_version, EnrichmentRow.model)
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(select(EnrichmentRow).where(tuple_(*columns).in_(keys)))
            ).all()
        return {
            (r.content_hash, r.prompt_version, r.model): Enrichment(
                summary=r.summary,
                vibe_tags=r.vibe_tags,
                free_tags=r.free_tags,
                genres=r.genres,
                hype_score=r.hype_score,
                hype_reason=r.hype_reason,
                audience=r.audience,
                provenance=Provenance(provider=r.provider, model=r.model, version=r.prompt_version),
            )
            for r in rows
        }
