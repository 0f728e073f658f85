"""Entry point: ``python -m services.drift`` (scheduled drift runs over Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge

from services.drift.run import run_drift
from services.drift.settings import DriftSettings
from trendkit.db.database import Database
from trendkit.runtime import add_metrics_route, configure_logging, prepare_database, serve

SERVICE = "drift"
log = logging.getLogger(SERVICE)


def create_app(settings: DriftSettings) -> FastAPI:
    """Wire the drift service: a schedule, /healthz and /metrics."""
    registry = CollectorRegistry()
    psi_gauge = Gauge(
        "trending_drift_psi", "Latest PSI per feature", ["feature"], registry=registry
    )
    db = Database(settings.database_url, service=SERVICE)

    async def schedule() -> None:
        while True:
            try:
                report = await run_drift(db, settings)
                for feature, result in report["features"].items():
                    if result["statistic"] is not None:
                        psi_gauge.labels(feature).set(result["statistic"])
                log.info("drift run: %s %s", report["verdict"], report["samples"])
            except Exception:
                log.exception("drift run failed; next run as scheduled")
            await asyncio.sleep(settings.interval_seconds)

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
