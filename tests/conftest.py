"""Session fixtures: the real stack, started once; each test isolated inside it.

The stack is embedded (Tansu, PostgreSQL, Redis, moto in server mode) unless
``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL``, ``REDIS_URL`` or ``S3_ENDPOINT_URL`` name
external ones. Isolation: every test gets a fresh topic prefix and a fresh database cloned
from a migrated template, so no test sees another's leftovers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from stack import Stack
from trendkit.db import migrate
from trendkit.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore
from trendkit.settings import CommonSettings

TEMPLATE_DB = f"trending_template_{os.getpid()}"
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the real components once for the whole session."""
    root = tmp_path_factory.mktemp("stack")
    with Stack(root, s3=True) as running:
        yield running


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(stack: Stack) -> str:
    """Return the broker's bootstrap servers."""
    assert stack.kafka_bootstrap_servers is not None
    return stack.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def redis_url(stack: Stack) -> str:
    """Return the Redis URL."""
    assert stack.redis_url is not None
    return stack.redis_url


@pytest.fixture(scope="session")
def s3_endpoint_url(stack: Stack) -> Iterator[str]:
    """Return the S3 API endpoint (moto in server mode), with dummy credentials set.

    The credential chain then never reaches a real account, whatever the environment.
    """
    assert stack.s3_endpoint_url is not None
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DUMMY_AWS_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield stack.s3_endpoint_url


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """Yield an empty object store: a local folder, then a fresh bucket on the S3 API."""
    backend: ObjectStore
    if request.param == "local":
        backend = LocalObjectStore(tmp_path / "objects")
    else:
        endpoint = request.getfixturevalue("s3_endpoint_url")
        # A key prefix too, so every test also checks that keys stay relative to it.
        backend = S3ObjectStore(f"test-{uuid.uuid4().hex[:12]}", "env/a", endpoint_url=endpoint)
    try:
        yield backend
    finally:
        await backend.close()


def _dsn(url: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


async def _on_server(stack: Stack, sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    assert stack.database_url is not None
    admin = await asyncpg.connect(_dsn(stack.database_url, "postgres"))
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def _database(stack: Stack, name: str) -> str:
    assert stack.database_url is not None
    return make_url(stack.database_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def template_database(stack: Stack) -> AsyncIterator[str]:
    """Create a database migrated to head once; tests clone it (fast, no re-migration)."""
    await _on_server(stack, f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
    await _on_server(stack, f'CREATE DATABASE "{TEMPLATE_DB}"')
    url = _database(stack, TEMPLATE_DB)
    await migrate.upgrade(url)
    yield url
    await _on_server(stack, f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture
async def database_url(stack: Stack, template_database: str) -> AsyncIterator[str]:
    """Yield the URL of a fresh database at the schema's head, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    await _on_server(stack, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    yield _database(stack, name)
    await _on_server(stack, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def topic_prefix() -> str:
    """Return a fresh topic namespace for one test."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings(
    kafka_bootstrap_servers: str,
    database_url: str,
    redis_url: str,
    topic_prefix: str,
    tmp_path: Path,
) -> CommonSettings:
    """Return settings pointing at the session's stack, isolated for this test."""
    return CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        database_url=database_url,
        redis_url=redis_url,
        topic_prefix=topic_prefix,
        topic_partitions=3,
        object_store_url=f"file://{tmp_path / 'objects'}",
    )
