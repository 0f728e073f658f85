"""Entry point: ``python -m services.enricher`` (titles.raw → titles.enriched)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.asgi import AsgiFastStream

from services.enricher.cache import EnrichmentCache
from services.enricher.handlers import EnrichTitles
from services.enricher.metrics import EnricherMetrics
from services.enricher.providers import build_router
from services.enricher.settings import EnricherSettings
from trendkit.contracts import TITLES_RAW, Enrichment, TitleObserved
from trendkit.hotcache import RedisModelCache
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "enricher"


def create_app(settings: EnricherSettings) -> AsgiFastStream:
    """Wire the enricher: one batch stage over titles.raw, a cache in front of the providers."""
    ctx = ServiceContext(SERVICE, settings)
    metrics = EnricherMetrics(ctx.registry)
    router = build_router(settings, ctx.db, metrics)
    hot = RedisModelCache(
        settings.redis_url,
        Enrichment,
        namespace=f"{settings.topic_prefix}enrich",
        ttl_s=settings.cache_ttl_s,
    )
    ctx.stage(
        input_topic=TITLES_RAW,
        input_model=TitleObserved,
        handler=EnrichTitles(EnrichmentCache(ctx.db, hot, metrics), router),
    ).subscribe()

    @asynccontextmanager
    async def providers() -> AsyncIterator[None]:
        await router.start()  # load the local model before the first batch, not during it
        try:
            yield
        finally:
            await router.aclose()
            await hot.aclose()

    return ctx.app(providers)


def main() -> None:
    """Run the enricher until stopped."""
    settings = EnricherSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
