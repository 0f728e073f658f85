"""Run the Alembic migrations from code or by hand, one migrator at a time.

    python -m trendkit.db.migrate upgrade [REVISION] [--url URL]
    python -m trendkit.db.migrate downgrade [REVISION] [--url URL]   # default: one step
    python -m trendkit.db.migrate current [--url URL]
    python -m trendkit.db.migrate check [--url URL]     # models match the migrations?
    python -m trendkit.db.migrate revision -m MESSAGE [--autogenerate] [--url URL]

The URL defaults to ``DATABASE_URL``. Every service may call :func:`upgrade` at start-up:
the whole run happens in one transaction holding a Postgres advisory lock, so services
starting together migrate once, in turn, and a failed migration leaves nothing behind.

Isolation for tests is a fresh *database* (``CREATE DATABASE``) per test module or session,
not a schema: migrations then run exactly as in production, with no search_path games.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from trendkit.db.engine import normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Any fixed 64-bit number works; it only has to be the same in every service.
MIGRATION_LOCK_KEY = 0x7472656E646B6974  # "trendkit"

AlembicCommand = Callable[[Config], None]


def alembic_config(database_url: str) -> Config:
    """Build the Alembic configuration in code: no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates "%", which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def _invoke(connection: Connection, config: Config, action: AlembicCommand) -> None:
    config.attributes["connection"] = connection
    action(config)


async def run_locked(database_url: str, action: AlembicCommand) -> None:
    """Run an Alembic command on one connection, in one transaction, under the migration lock."""
    config = alembic_config(database_url)
    engine = create_async_engine(
        normalise_url(database_url),
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"application_name": "trendkit-migrate"}},
    )
    try:
        async with engine.connect() as connection:
            # Transaction-scoped: released on commit or rollback, even if we crash mid-way.
            # It also serialises runs inside one process, which matters because Alembic's
            # `context` is process-global and two interleaved runs would clobber it.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            await connection.run_sync(_invoke, config, action)
            await connection.commit()
    finally:
        await engine.dispose()


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to ``revision``."""
    await run_locked(database_url, lambda config: command.upgrade(config, revision))


async def downgrade(database_url: str, revision: str = "-1") -> None:
    """Downgrade the database to ``revision`` ("base" drops every table)."""
    await run_locked(database_url, lambda config: command.downgrade(config, revision))


async def current(database_url: str) -> str | None:
    """Return the revision the database is at, or None before the first migration."""
    engine = create_async_engine(normalise_url(database_url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def check(database_url: str) -> None:
    """Raise if the models differ from what the migrations build (run it at head)."""
    await run_locked(database_url, command.check)


async def revision(
    database_url: str, message: str, *, autogenerate: bool = False, rev_id: str | None = None
) -> None:
    """Write a new revision file, diffing the models against the database if asked."""

    def write(config: Config) -> None:
        command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)

    await run_locked(database_url, write)


def upgrade_sync(database_url: str, revision: str = "head") -> None:
    """Upgrade the database from synchronous code, such as a CLI."""
    asyncio.run(upgrade(database_url, revision))


def _default_url() -> str:
    from trendkit.settings import CommonSettings

    return CommonSettings().database_url


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m trendkit.db.migrate", description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade", "current", "check", "revision"])
    parser.add_argument("revision", nargs="?", help="target: head, base, -1, a revision id")
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.add_argument("-m", "--message", default="", help="revision: its message")
    parser.add_argument("--autogenerate", action="store_true", help="revision: diff models")
    parser.add_argument("--rev-id", default=None, help="revision: its id, such as 0002")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    url: str = args.url or _default_url()

    if args.action == "upgrade":
        asyncio.run(upgrade(url, args.revision or "head"))
    elif args.action == "downgrade":
        asyncio.run(downgrade(url, args.revision or "-1"))
    elif args.action == "current":
        print(asyncio.run(current(url)) or "(none)")
    elif args.action == "check":
        asyncio.run(check(url))
    else:
        if not args.message:
            parser.error("revision needs -m MESSAGE")
        asyncio.run(revision(url, args.message, autogenerate=args.autogenerate, rev_id=args.rev_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
