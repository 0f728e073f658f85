"""Who enriches the cache misses: the LLM while it is affordable and healthy, else local.

The LLM is asked in chunks of ``batch_size`` titles; a chunk whose request fails outright
(``ProviderUnavailable``) counts against the circuit breaker and is enriched locally, so
one failed request never throws away the answers already paid for in the same batch.
Titles enriched locally are marked ``provider=local`` in their provenance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.enricher.domain import (
    EnrichmentFailure,
    EnrichmentProvider,
    ProviderUnavailable,
)
from services.enricher.metrics import EnricherMetrics
from trendkit.contracts import Enrichment, Provenance, TitleObserved

log = logging.getLogger(__name__)
Result = Enrichment | EnrichmentFailure


class Budget(Protocol):
    """Whether the LLM may still be paid today."""

    async def exhausted(self) -> bool:
        """True when today's spend reached the limit."""
        ...


class Breaker(Protocol):
    """A circuit breaker: stop calling a provider that keeps failing, try again later."""

    def allow(self) -> bool:
        """True when a request may be made now."""
        ...

    def record_success(self) -> None:
        """A request succeeded."""
        ...

    def record_failure(self) -> None:
        """A request failed."""
        ...


@dataclass(frozen=True)
class PaidProvider:
    """An LLM with what guards it: today's budget and a circuit breaker."""

    provider: EnrichmentProvider
    budget: Budget
    breaker: Breaker


def provenance_of(provider: EnrichmentProvider) -> Provenance:
    """Return the provenance a provider stamps on its answers (and the cache key's part)."""
    return Provenance(provider=provider.provider, model=provider.model, version=provider.version)


class EnrichmentRouter:
    """Send titles to the LLM when allowed, to the local provider otherwise."""

    def __init__(
        self,
        local: EnrichmentProvider,
        metrics: EnricherMetrics,
        *,
        llm: PaidProvider | None = None,
        chunk_size: int = 8,
    ) -> None:
        self.local = local
        self.llm = llm
        self.metrics = metrics
        self.chunk_size = chunk_size

    async def start(self) -> None:
        """Get the providers ready (load the local model) before the first batch."""
        for provider in (self.local, self.llm.provider if self.llm else None):
            start = getattr(provider, "start", None)
            if start is not None:
                await start()

    async def aclose(self) -> None:
        """Release what the providers hold (HTTP connections)."""
        for provider in (self.local, self.llm.provider if self.llm else None):
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    def worth_caching(self, provenance: Provenance) -> bool:
        """Say whether answers of this provenance are worth storing and looking up.

        The keyword lexicon answers in microseconds: a cache round trip (Redis, Postgres)
        costs more than asking it again, so its answers are never cached.
        """
        return provenance != provenance_of(self.local) or getattr(self.local, "cacheable", True)

    @property
    def preferred(self) -> Provenance:
        """Return whose answers the cache is asked for first."""
        return provenance_of(self.llm.provider if self.llm else self.local)

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Result]:
        """Return one result per title, in order."""
        if not titles:
            return []
        if self.llm is None:
            return await self._local(titles)
        chunks = [
            list(titles[i : i + self.chunk_size]) for i in range(0, len(titles), self.chunk_size)
        ]
        llm = self.llm
        answers = await asyncio.gather(*(self._chunk(llm, chunk) for chunk in chunks))
        return [result for answer in answers for result in answer]

    async def _chunk(self, llm: PaidProvider, titles: list[TitleObserved]) -> list[Result]:
        if await llm.budget.exhausted():
            return await self._fallback(titles, "budget")
        if not llm.breaker.allow():
            return await self._fallback(titles, "breaker")
        try:
            results = await llm.provider.enrich(titles)
        except ProviderUnavailable as exc:
            llm.breaker.record_failure()
            log.warning("LLM unavailable for %d titles, enriching locally: %s", len(titles), exc)
            return await self._fallback(titles, "error")
        llm.breaker.record_success()
        self.metrics.enriched.labels(llm.provider.provider).inc(
            sum(isinstance(r, Enrichment) for r in results)
        )
        return results

    async def _fallback(self, titles: list[TitleObserved], reason: str) -> list[Result]:
        self.metrics.fallbacks.labels(reason).inc(len(titles))
        return await self._local(titles)

    async def _local(self, titles: Sequence[TitleObserved]) -> list[Result]:
        results = await self.local.enrich(titles)
        self.metrics.enriched.labels(self.local.provider).inc(len(results))
        return results
