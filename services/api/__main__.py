"""Entry point: ``python -m services.api`` — REST, websocket fan-out and the bubble chart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry

from services.api.consumer import FollowScores, load_current_scores
from services.api.http_metrics import HttpMetricsMiddleware, request_histogram
from services.api.hub import TrendHub
from services.api.metrics import HubCollector
from services.api.readiness import build_readiness_router, dependency_checks
from services.api.rest import add_rest_api
from services.api.routes import build_router, mount_frontend
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from trendkit.broker import ensure_topics, make_broker
from trendkit.contracts import PIPELINE_TOPICS, TRENDS_SCORED, TitleScored
from trendkit.db.database import Database
from trendkit.runtime import add_metrics_route, configure_logging, prepare_database, serve
from trendkit.stage import BatchStage, StageMetrics

SERVICE = "api"


def create_app(settings: ApiSettings) -> FastAPI:
    """Wire the api: hub, trends.scored consumer, routes, metrics, AsyncAPI, frontend."""
    registry = CollectorRegistry()
    broker = make_broker(settings, service=SERVICE, registry=registry)
    db = Database(settings.database_url, service=SERVICE)
    hub = TrendHub.from_settings(settings)
    registry.register(HubCollector(hub))
    # Every replica must see every score, so each one is its own consumer group and
    # starts from what is new; what came before is in Postgres (current_scores).
    stage: BatchStage[TitleScored] = BatchStage(
        broker=broker,
        publisher=None,  # the api publishes nothing onward
        settings=settings,
        service=SERVICE,
        input_topic=TRENDS_SCORED,
        input_model=TitleScored,
        handler=FollowScores(hub),
        metrics=StageMetrics(registry),
        group_id=settings.topic(f"api-{uuid.uuid4().hex[:12]}"),
        start_from="latest",
    )
    stage.subscribe()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_database(settings)
        await ensure_topics(settings, PIPELINE_TOPICS)
        await db.open()
        await broker.start()
        await load_current_scores(db, hub, per_window=settings.snapshot_limit)
        hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await stage.drain()
            await broker.stop()
            await db.close()

    app = FastAPI(title="Trending Now", version="0.1.0", lifespan=lifespan)
    add_rest_api(app, hub, db)
    app.include_router(build_ws_router(hub, settings))
    app.include_router(build_router(hub))
    app.include_router(build_readiness_router(dependency_checks(broker, db, settings.redis_url)))
    add_metrics_route(app, registry)
    app.add_middleware(HttpMetricsMiddleware, histogram=request_histogram(registry))
    asyncapi = AsyncAPI(broker, title="Trending Now topics", version="0.1.0")

    @app.get("/asyncapi", tags=["meta"])
    async def asyncapi_document() -> dict[str, object]:
        """Return the AsyncAPI document of the topics, for programs that subscribe directly."""
        return asyncapi.to_specification().to_jsonable()  # type: ignore[no-any-return]

    mount_frontend(app, settings.frontend_dir)
    return app


def main() -> None:
    """Serve the api until stopped."""
    settings = ApiSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(
        create_app(settings),
        service=SERVICE,
        settings=settings,
        port=settings.port,
        **settings.websocket_options(),
    )


if __name__ == "__main__":
    main()
