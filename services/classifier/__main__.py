"""Entry point: ``python -m services.classifier`` (titles.enriched → titles.classified)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.asgi import AsgiFastStream

from services.classifier.handlers import ClassifyTitles
from services.classifier.registry import Registry
from services.classifier.serving import ModelHolder, ServingMetrics
from services.classifier.settings import ClassifierSettings
from trendkit.contracts import TITLES_ENRICHED, TitleEnriched
from trendkit.objectstore import open_object_store
from trendkit.runtime import configure_logging, serve
from trendkit.service import ServiceContext

SERVICE = "classifier"


def create_app(settings: ClassifierSettings) -> AsgiFastStream:
    """Wire the classifier: the registry's production model behind one batch stage."""
    settings = settings.batching()
    ctx = ServiceContext(SERVICE, settings)
    store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    models = ModelHolder(
        Registry(ctx.db, store),
        name=settings.model_name,
        metrics=ServingMetrics(ctx.registry),
        cache_dir=settings.model_cache_dir,
        shadow=settings.shadow,
        shadow_version=settings.shadow_version,
    )
    ctx.stage(
        input_topic=TITLES_ENRICHED,
        input_model=TitleEnriched,
        handler=ClassifyTitles(ctx.db, models),
    ).subscribe()

    @asynccontextmanager
    async def model_in_service() -> AsyncIterator[None]:
        # The production model is loaded before the first batch; later promotions are
        # picked up by the watcher while batches keep flowing.
        await models.refresh()
        watcher = asyncio.create_task(models.watch(settings.poll_s), name="model-watch")
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await store.close()

    return ctx.app(model_in_service)


def main() -> None:
    """Run the classifier until stopped."""
    settings = ClassifierSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
