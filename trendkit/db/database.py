"""The one Postgres handle a service holds: opened in its lifespan, closed on shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from trendkit.db.engine import create_engine, session_factory


class DatabaseNotOpen(RuntimeError):
    """A handler ran before the service's lifespan opened the database."""


class Database:
    """A service's engine and session maker; built at wiring time, connected at start-up."""

    def __init__(self, url: str, *, service: str, pool_size: int = 5) -> None:
        self.url = url
        self.service = service
        self.pool_size = pool_size
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    async def open(self) -> None:
        """Create the engine (connections are made lazily, on first use)."""
        if self._engine is None:
            self._engine = create_engine(self.url, service=self.service, pool_size=self.pool_size)
            self._sessions = session_factory(self._engine)

    async def close(self) -> None:
        """Dispose of the engine and its pooled connections."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = self._sessions = None

    @property
    def engine(self) -> AsyncEngine:
        """Return the open engine."""
        if self._engine is None:
            raise DatabaseNotOpen(f"{self.service}: database used before start-up opened it")
        return self._engine

    @asynccontextmanager
    async def driver_transaction(self) -> AsyncIterator[Any]:
        """Yield a pooled connection's asyncpg connection, inside one transaction.

        For the write paths that run once per batch (``trendkit.db.upsert`` takes this
        connection): around a few statements, an ORM session's own machinery cost more
        CPU than a small batch's writes. Measured on this machine with uvloop, one
        transaction upserting 15 classifications: 2.1–2.8 ms of client CPU through a
        session, 1.0 ms through this, 0.5 ms on a bare asyncpg connection. The connection
        comes from, and goes back to, the engine's pool.
        """
        raw = await self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            async with driver.transaction():
                yield driver
        finally:
            # Back to the pool; nothing to roll back (asyncpg's transaction has ended).
            await greenlet_spawn(raw.close)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one transaction, committed on success."""
        if self._sessions is None:
            raise DatabaseNotOpen(f"{self.service}: database used before start-up opened it")
        async with self._sessions() as session, session.begin():
            yield session
