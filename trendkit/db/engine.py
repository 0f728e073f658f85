"""Create async engines and session factories; one engine per service, made in its lifespan."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

_ASYNC_DRIVER = "postgresql+asyncpg"


def normalise_url(database_url: str) -> str:
    """Return the URL with the asyncpg driver, whatever Postgres scheme it was given."""
    url = make_url(database_url)
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url.render_as_string(hide_password=True)}")
    return url.set(drivername=_ASYNC_DRIVER).render_as_string(hide_password=False)


def create_engine(database_url: str, *, service: str, pool_size: int = 5) -> AsyncEngine:
    """Create an asyncpg engine whose connections show ``service`` in pg_stat_activity."""
    return _create_async_engine(
        normalise_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping per checkout: it costs a round trip on every batch, and a connection that
        # died with a Postgres restart fails its batch, is discarded, and the stage retries.
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": service}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a session maker whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
