"""Postgres access shared by every service: models, engine, idempotent upserts, migrations."""

from trendkit.db.engine import create_engine, normalise_url, session_factory
from trendkit.db.models import Base, metadata
from trendkit.db.upsert import insert_ignore, upsert

__all__ = [
    "Base",
    "create_engine",
    "insert_ignore",
    "metadata",
    "normalise_url",
    "session_factory",
    "upsert",
]
