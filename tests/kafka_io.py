"""Test helpers that talk to the real broker and run services as real processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from stack.supervisor import Supervisor
from trendkit.contracts import Event
from trendkit.settings import CommonSettings


def service_env(settings: CommonSettings) -> dict[str, str]:
    """Return the environment that points a service process at this test's namespace."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TOPIC_PREFIX": settings.topic_prefix,
        "TOPIC_PARTITIONS": str(settings.topic_partitions),
        "OBJECT_STORE_URL": settings.object_store_url,
        "LOG_LEVEL": "INFO",
        # Tests of the plumbing use the keyword enricher (no model to load); the tests of
        # the enricher itself choose their provider.
        "ENRICHER_PROVIDER": "lexicon",
    }


@contextlib.contextmanager
def services(
    settings: CommonSettings,
    names: Sequence[str],
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    **kwargs: object,
) -> Iterator[Supervisor]:
    """Run the named services as processes until the block ends (``env`` adds variables)."""
    supervisor = Supervisor(
        env={**service_env(settings), **(env or {})},
        root=root,
        services=names,
        **kwargs,  # type: ignore[arg-type]
    )
    supervisor.start()
    try:
        supervisor.wait_healthy(timeout=60)
        yield supervisor
    finally:
        supervisor.stop()


async def produce(
    settings: CommonSettings, topic: str, events: Iterable[Event | tuple[bytes, bytes]]
) -> None:
    """Send events (or raw key/value pairs) to a logical topic, then flush."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        for item in events:
            if isinstance(item, Event):
                await producer.send(
                    settings.topic(topic), item.model_dump_json().encode(), key=item.key
                )
            else:
                key, value = item
                await producer.send(settings.topic(topic), value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def consume_until(
    settings: CommonSettings,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    within: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a logical topic from the beginning until ``done(records)`` or ``within`` s pass."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{settings.topic_prefix}reader-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        fetch_max_wait_ms=25,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not done(records) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


class Reader:
    """A consumer kept open across a test's steps: it joins once, then reads as events come.

    ``consume_until`` re-reads a topic from the start and pays a group join each time;
    a test that waits for outputs step by step uses one Reader instead.
    """

    def __init__(self, settings: CommonSettings, topic: str) -> None:
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            settings.topic(topic),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=f"{settings.topic_prefix}step-reader-{topic}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=2000,
            fetch_max_wait_ms=25,
        )

    async def __aenter__(self) -> Reader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def until(
        self, done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool], *, within: float = 60.0
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Read until ``done(all records so far)``; fail the test after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not done(self.records):
            if loop.time() > deadline:
                raise AssertionError(f"not done within {within} s; read {len(self.records)}")
            for batch in (await self._consumer.getmany(timeout_ms=200)).values():
                self.records.extend(batch)
        return self.records
