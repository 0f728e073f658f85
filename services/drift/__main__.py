"""Entry point: ``python -m services.drift`` (a drift run every DRIFT_INTERVAL_MINUTES)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.drift.metrics import DriftMetrics
from services.drift.run import run_drift
from services.drift.settings import DriftSettings
from trendkit.db.database import Database
from trendkit.objectstore import open_object_store
from trendkit.runtime import add_metrics_route, configure_logging, prepare_database, serve

SERVICE = "drift"
log = logging.getLogger(SERVICE)


def create_app(settings: DriftSettings) -> FastAPI:
    """Wire the drift service: a schedule, /healthz and /metrics."""
    registry = CollectorRegistry()
    metrics = DriftMetrics(registry)
    db = Database(settings.database_url, service=SERVICE)
    store = open_object_store(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)

    async def schedule() -> None:
        while True:
            try:
                done = await run_drift(db, store, settings)
                metrics.observe(done.report, time.time())
                log.info(
                    "drift run %s: %s (drifted: %s) %s",
                    done.id,
                    done.verdict or "not enough data",
                    ", ".join(done.report["drifted"]) or "none",
                    done.report_uri,
                )
            except Exception:
                log.exception("drift run failed; next run as scheduled")
            await asyncio.sleep(settings.interval_minutes * 60)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_database(settings)
        await db.open()
        task = asyncio.create_task(schedule(), name="drift-schedule")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await store.close()
            await db.close()

    app = FastAPI(title="Trending Now drift", lifespan=lifespan)
    add_metrics_route(app, registry)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Say the process is up."""
        return {"status": "ok"}

    return app


def main() -> None:
    """Run the drift service until stopped."""
    settings = DriftSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), service=SERVICE, settings=settings)


if __name__ == "__main__":
    main()
