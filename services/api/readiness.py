"""``/readyz``: is every dependency the api needs reachable right now?

Liveness (``/healthz``) says the process is up; readiness says it can serve: the broker
answers, Postgres answers a query, Redis answers PING. A load balancer sends no traffic
to a replica that is not ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from sqlalchemy import text

from trendkit.db.database import Database

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_S = 2.0


def dependency_checks(broker: KafkaBroker, db: Database, redis_url: str) -> dict[str, Check]:
    """Return one check per dependency; each raises when its dependency does not answer."""

    async def kafka() -> None:
        if not await broker.ping(timeout=CHECK_TIMEOUT_S):
            raise ConnectionError("broker did not answer")

    async def postgres() -> None:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def redis() -> None:
        client = Redis.from_url(redis_url, socket_connect_timeout=CHECK_TIMEOUT_S)
        try:
            await client.ping()
        finally:
            await client.aclose()

    return {"kafka": kafka, "postgres": postgres, "redis": redis}


async def _run(check: Check) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception as error:  # any failure means "not ready", with the reason shown
        return f"down: {type(error).__name__}: {error}"[:200]
    return "ok"


def build_readiness_router(checks: Mapping[str, Check]) -> APIRouter:
    """Return the ``/readyz`` route over the given checks."""
    router = APIRouter()

    @router.get("/readyz", tags=["meta"])
    async def readyz() -> JSONResponse:
        """Say whether the broker, Postgres and Redis answer (503 naming those that do not)."""
        results = await asyncio.gather(*(_run(c) for c in checks.values()))
        status = dict(zip(checks, results, strict=True))
        ready = all(v == "ok" for v in status.values())
        return JSONResponse({"ready": ready, "checks": status}, status_code=200 if ready else 503)

    return router
