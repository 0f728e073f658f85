"""The embedded stack: real Tansu, PostgreSQL, Redis and moto, started from wheels and stopped."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from stack import (
    ENV_VARS,
    ComponentStartError,
    RedisServer,
    Stack,
    StackInUseError,
)
from stack.ports import port_is_free, tcp_answers
from stack.processes import ProcessRecord

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# Started in a separate Python process, which prints what it started and then waits.
LAUNCHER = """
import json, sys
from stack import Stack
names = sys.argv[2].split(",")
stack = Stack(sys.argv[1], **{n: n in names for n in ("kafka", "postgres", "redis", "s3")},
              use_env=False).start()
ports = {name: c.port for name, c in stack.components.items()}
print(json.dumps({"pids": stack.pids(), "ports": ports}), flush=True)
sys.stdin.read()  # until our stdin closes; a normal exit then stops the stack (atexit)
"""


@pytest.fixture(autouse=True)
def _no_external_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start from a clean environment, as if no external services were configured."""
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run all four components for the checks below (not the session stack: no env URLs)."""
    with Stack(tmp_path_factory.mktemp("stack"), s3=True, use_env=False) as started:
        yield started


def alive(proc: psutil.Process) -> bool:
    """Return whether the process still runs (a zombie does not)."""
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def processes_of(stack: Stack) -> list[psutil.Process]:
    """Return the stack's server processes and all their descendants."""
    procs: list[psutil.Process] = []
    for pid in stack.pids().values():
        proc = psutil.Process(pid)
        procs += [proc, *proc.children(recursive=True)]
    return procs


def launch(root: Path, components: str) -> tuple[subprocess.Popen[str], dict[str, dict[str, int]]]:
    """Start a stack in another Python process; return it and what it started."""
    errors = root.parent / f"{root.name}-launcher.err"
    with errors.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(root), components],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"launcher failed:\n{errors.read_text()}"
    return proc, json.loads(line)


def close_launcher(proc: subprocess.Popen[str]) -> None:
    """Close the launcher's pipes and reap it."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()
    proc.wait(timeout=30)


async def create_topic(bootstrap: str, topic: str) -> None:
    """Create a one-partition topic."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Publish the values and wait for every acknowledgement."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(topic, value, key=b"k") for value in values]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """Read count values from the start of the topic."""
    from aiokafka import AIOKafkaConsumer

    # The settings that suit Tansu (see DESIGN.md).
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"check-{uuid.uuid4().hex[:6]}",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        fetch_max_wait_ms=25,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batches = await consumer.getmany(timeout_ms=500)
                got += [m.value for records in batches.values() for m in records if m.value]
    finally:
        await consumer.stop()
    return got


async def test_kafka_produces_and_consumes(embedded: Stack) -> None:
    bootstrap = embedded.kafka_bootstrap_servers
    assert bootstrap is not None
    topic = f"stack-check-{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic)
    await produce(bootstrap, topic, [b"hello"])
    assert await consume(bootstrap, topic, 1) == [b"hello"]


async def test_postgres_answers_sql(embedded: Stack) -> None:
    import asyncpg

    url = embedded.database_url
    assert url is not None
    assert url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_database()") == "trending"
    finally:
        await conn.close()


async def test_redis_answers(embedded: Stack) -> None:
    import redis.asyncio as aioredis

    assert embedded.redis_url is not None
    client = aioredis.from_url(embedded.redis_url)
    try:
        assert await client.ping()
        await client.set("stack-check", b"value")
        assert await client.get("stack-check") == b"value"
    finally:
        await client.aclose()


async def test_s3_stores_objects(embedded: Stack) -> None:
    import aioboto3

    session = aioboto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    async with session.client("s3", endpoint_url=embedded.s3_endpoint_url) as s3:
        await s3.create_bucket(Bucket="stack-check")
        await s3.put_object(Bucket="stack-check", Key="a/b.txt", Body=b"payload")
        got = await s3.get_object(Bucket="stack-check", Key="a/b.txt")
        async with got["Body"] as body:
            assert await body.read() == b"payload"


def test_env_names_every_url(embedded: Stack) -> None:
    env = embedded.env()
    assert set(env) == set(ENV_VARS.values())
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == embedded.kafka_bootstrap_servers
    assert env["DATABASE_URL"] == embedded.database_url
    assert env["REDIS_URL"] == embedded.redis_url
    assert env["S3_ENDPOINT_URL"] == embedded.s3_endpoint_url


def test_stop_leaves_no_process_and_no_bound_port(tmp_path: Path) -> None:
    stack = Stack(tmp_path, s3=True, use_env=False).start()
    procs = processes_of(stack)
    ports = [c.port for c in stack.components.values()]
    pid_files = [c.pid_path for c in stack.components.values()]
    assert len(stack.pids()) == 4
    assert all(path.exists() for path in pid_files)

    stack.stop()
    stack.stop()  # idempotent

    assert [p.pid for p in procs if alive(p)] == []
    assert all(port_is_free(port) and not tcp_answers(port) for port in ports)
    assert not any(path.exists() for path in pid_files)
    assert stack.pids() == {}


def test_postgres_keeps_its_data_between_runs(tmp_path: Path) -> None:
    import asyncpg

    async def sql(url: str, statement: str) -> object:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    with Stack(tmp_path, kafka=False, redis=False, use_env=False) as first:
        assert first.database_url is not None
        asyncio.run(sql(first.database_url, "create table kept as select 42 as x"))
    with Stack(tmp_path, kafka=False, redis=False, use_env=False) as second:
        assert second.database_url is not None
        assert asyncio.run(sql(second.database_url, "select x from kept")) == 42


def test_leftovers_of_a_crashed_launcher_are_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "root"
    launcher, started = launch(root, "kafka,postgres,redis,s3")
    leftovers = [psutil.Process(pid) for pid in started["pids"].values()]
    leftovers += [child for proc in leftovers for child in proc.children(recursive=True)]
    launcher.kill()  # a crash: no atexit, no stop; the servers live on in their own sessions
    close_launcher(launcher)
    assert all(alive(proc) for proc in leftovers)
    # Without our pid file the postmaster is still found through DATA/postmaster.pid.
    (root / "postgres" / "postgres.pid").unlink()

    with (
        caplog.at_level(logging.WARNING, logger="stack"),
        Stack(root, s3=True, use_env=False) as stack,
    ):
        assert [p.pid for p in leftovers if alive(p)] == []
        warned = " ".join(r.getMessage() for r in caplog.records)
        assert warned.count("stopping leftover") == 4, warned
        assert set(stack.pids().values()).isdisjoint(started["pids"].values())
        assert tcp_answers(stack.components["redis"].port)
    assert all(port_is_free(port) for port in started["ports"].values())


def test_a_live_launchers_components_are_not_touched(tmp_path: Path) -> None:
    root = tmp_path / "root"
    launcher, started = launch(root, "redis")
    theirs = psutil.Process(started["pids"]["redis"])
    try:
        with pytest.raises(StackInUseError, match="belongs to the running launcher"):
            Stack(root, kafka=False, postgres=False, use_env=False).start()
        assert alive(theirs)
    finally:
        close_launcher(launcher)  # it exits normally, so its atexit hook stops its redis
    assert launcher.returncode == 0
    assert not alive(theirs)


def test_a_pid_file_naming_another_process_does_not_kill_it(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        proc = psutil.Process(bystander.pid)
        redis = RedisServer(tmp_path)
        # Same pid and start time, but another program than the one we start...
        other_program = ProcessRecord(
            component="redis",
            pid=proc.pid,
            create_time=proc.create_time(),
            exe=str(RedisServer.binary()),
            cmdline=["sleep", "60"],
            owner_pid=gone.pid,
            owner_create_time=0.0,
        )
        # ...and the same pid and program, but started at another time (a recycled pid).
        other_time = dataclasses.replace(
            other_program, exe=proc.exe(), create_time=proc.create_time() - 60
        )
        for record in (other_program, other_time):
            record.write(redis.pid_path)
            redis.start()
            assert alive(proc)
            assert ProcessRecord.read(redis.pid_path) != record
            redis.stop()
        assert alive(proc)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_child_that_dies_during_startup_is_reported_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        redis = RedisServer(tmp_path, port=port)
        with pytest.raises(ComponentStartError) as caught:
            redis.start()
    message = str(caught.value)
    assert message.startswith("redis: exited with code")
    assert "Address already in use" in message
    assert caught.value.log_path == redis.log_path
    assert redis.pid is None
    assert not redis.pid_path.exists()


def test_external_urls_from_env_are_used_and_nothing_starts(
    embedded: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert embedded.database_url is not None
    database = f"external_{uuid.uuid4().hex[:8]}"
    # A plain postgresql:// URL, as most tools write it, to a database that does not exist yet.
    plain = embedded.database_url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "/trending", f"/{database}"
    )
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("DATABASE_URL", plain)
    monkeypatch.setenv("REDIS_URL", "redis://redis.example:6379/1")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://s3.example:9000")
    root = tmp_path / "root"

    with Stack(root, s3=True) as external:
        assert external.components == {}
        assert external.pids() == {}
        assert external.env() == {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092",
            "DATABASE_URL": plain.replace("postgresql://", "postgresql+asyncpg://"),
            "REDIS_URL": "redis://redis.example:6379/1",
            "S3_ENDPOINT_URL": "http://s3.example:9000",
        }
    assert not root.exists()

    import asyncpg

    async def exists() -> object:
        conn = await asyncpg.connect(plain)
        try:
            return await conn.fetchval("select current_database()")
        finally:
            await conn.close()

    assert asyncio.run(exists()) == database


async def test_broker_on_s3_storage_keeps_messages_across_a_restart(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path,
        postgres=False,
        redis=False,
        s3=True,
        kafka_storage_url="s3://tansu/",
        use_env=False,
    )
    await asyncio.to_thread(stack.start)
    try:
        bootstrap = stack.kafka_bootstrap_servers
        assert bootstrap is not None
        values = [f"m{i}".encode() for i in range(20)]
        await create_topic(bootstrap, "durable")
        await produce(bootstrap, "durable", values)
        broker = stack.components["kafka"]
        before = broker.pid
        began = time.monotonic()
        await asyncio.to_thread(broker.restart)
        assert broker.pid != before
        assert time.monotonic() - began < 30
        assert broker.url == bootstrap  # same port, so clients reconnect
        assert await consume(bootstrap, "durable", len(values)) == values
    finally:
        await asyncio.to_thread(stack.stop)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_postgres_survives_its_parent_folders_closing(tmp_path: Path) -> None:
    # What a second pytest session does to /tmp/pytest-of-root: chmod 0700.
    import asyncpg

    from stack.processes import ensure_system_user

    if ensure_system_user("embedded_postgres").setpriv is None:
        pytest.skip("no setpriv with CAP_DAC_READ_SEARCH here: PostgreSQL relies on o+x")
    locked = tmp_path / "locked"
    with Stack(locked / "root", kafka=False, redis=False, use_env=False) as stack:
        locked.chmod(0o700)
        assert stack.database_url is not None
        dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")

        async def write_and_checkpoint() -> object:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute("create table t as select generate_series(1, 1000) as x")
                await conn.execute("checkpoint")
                return await conn.fetchval("select count(*) from t")
            finally:
                await conn.close()

        assert asyncio.run(write_and_checkpoint()) == 1000
