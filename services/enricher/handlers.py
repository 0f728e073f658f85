"""Thin handler: look up the cache, enrich the misses, store them at once, emit events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from services.enricher.cache import EnrichmentCache, Key
from services.enricher.domain import (
    EnrichmentFailure,
    cache_key,
    hype_from_observation,
    to_enriched,
)
from services.enricher.router import EnrichmentRouter
from trendkit.contracts import TITLES_ENRICHED, Enrichment, TitleObserved
from trendkit.stage import Outbound, Outcome, PermanentError


def with_current_hype(observed: TitleObserved, enrichment: Enrichment) -> Enrichment:
    """A local answer's hype comes from the source signals: take this observation's."""
    if enrichment.provenance.provider != "local":
        return enrichment  # the LLM's judgement is part of its (cached, paid-for) answer
    hype, reason = hype_from_observation(observed)
    if (enrichment.hype_score, enrichment.hype_reason) == (hype, reason):
        return enrichment  # made from this very observation (the usual case): no copy
    return enrichment.model_copy(update={"hype_score": hype, "hype_reason": reason})


class EnrichTitles:
    """Enrich a batch, never paying twice for content already enriched."""

    def __init__(self, cache: EnrichmentCache, router: EnrichmentRouter) -> None:
        self.cache = cache
        self.router = router

    async def __call__(self, batch: list[TitleObserved]) -> Outcome:
        """Handle one batch from ``titles.raw``."""
        preferred = self.router.preferred
        caching = self.router.worth_caching(preferred)
        # Without a cache to consult, each title is its own entry: nothing to hash.
        keys = [cache_key(o.title, preferred) if caching else (o.event_id, "", "") for o in batch]
        known: dict[Key, Enrichment] = {}
        if caching:
            known = await self.cache.get_many(keys)
            self.cache.metrics.cache_misses.inc(len(set(keys) - known.keys()))
        misses = {k: o for k, o in zip(keys, batch, strict=True) if k not in known}
        failed: dict[Key, EnrichmentFailure] = {}
        persist: Callable[[], Awaitable[None]] | None = None
        if misses:
            results = await self.router.enrich(list(misses.values()))
            new: dict[Key, Enrichment] = {}
            title_ids: dict[Key, str] = {}
            for key, result in zip(misses, results, strict=True):
                if isinstance(result, EnrichmentFailure):
                    failed[key] = result
                    continue
                known[key] = result
                if not self.router.worth_caching(result.provenance):
                    continue
                # Filed under its own provenance: a local fallback's answer does not stand
                # in for the LLM's, which is asked for again once the LLM is back.
                own_key = cache_key(misses[key].title, result.provenance)
                new[own_key] = result
                title_ids[own_key] = misses[key].title_id
            if any(e.provenance.provider != "local" for e in new.values()):
                # Paid for: stored now, before publishing, so that if the batch must be
                # retried the answers are in the cache and are not bought again.
                await self.cache.put_many(new, title_ids)
            elif new:
                # Local answers cost only CPU: store them while the events are in flight.
                persist = partial(self.cache.put_many, new, title_ids)
        outputs = [
            Outbound(TITLES_ENRICHED, to_enriched(o, with_current_hype(o, known[k])))
            for k, o in zip(keys, batch, strict=True)
            if k in known
        ]
        rejected = {
            o.event_id: _refusal(failed[k]) for k, o in zip(keys, batch, strict=True) if k in failed
        }
        return Outcome(outputs, persist, rejected=rejected)


def _refusal(failure: EnrichmentFailure) -> PermanentError:
    return PermanentError(
        f"the LLM's answer stayed invalid after one repair: {failure.error}",
        context={"raw_answer": failure.raw_answer[:20_000]},
    )
