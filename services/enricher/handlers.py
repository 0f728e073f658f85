"""Thin handler: look up the durable cache, enrich the misses, store them, emit events."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from services.enricher.domain import EnrichmentProvider, cache_key, to_enriched
from trendkit.contracts import TITLES_ENRICHED, Enrichment, Provenance, TitleObserved
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow
from trendkit.db.upsert import insert_ignore
from trendkit.stage import Outbound, Outcome

Key = tuple[str, str, str]


class EnrichTitles:
    """Enrich a batch, never paying twice for content already enriched."""

    def __init__(self, db: Database, provider: EnrichmentProvider) -> None:
        self.db = db
        self.provider = provider

    @property
    def provenance(self) -> Provenance:
        """Return who enriches titles now."""
        p = self.provider
        return Provenance(provider=p.provider, model=p.model, version=p.version)

    async def __call__(self, batch: list[TitleObserved]) -> Outcome:
        """Handle one batch from ``titles.raw``."""
        keys = [cache_key(o.title, self.provenance) for o in batch]
        known = await self._cached(set(keys))
        misses = {k: o for k, o in zip(keys, batch, strict=True) if k not in known}
        new: dict[Key, Enrichment] = {}
        if misses:
            fresh = await self.provider.enrich(list(misses.values()))
            new = dict(zip(misses, fresh, strict=True))
            known.update(new)
        outputs = [
            Outbound(TITLES_ENRICHED, to_enriched(o, known[k]))
            for k, o in zip(keys, batch, strict=True)
        ]

        async def persist() -> None:
            if new:
                await self._store(new, misses)

        # New enrichments are stored while the outputs are in flight; offsets are
        # committed only after both, so a crash between them redoes the batch.
        return Outcome(outputs, persist)

    async def _cached(self, keys: set[Key]) -> dict[Key, Enrichment]:
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

    async def _store(self, new: dict[Key, Enrichment], inputs: dict[Key, TitleObserved]) -> None:
        rows = [
            {
                "content_hash": key[0],
                "prompt_version": key[1],
                "model": key[2],
                "provider": e.provenance.provider,
                "title_id": inputs[key].title_id,
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
