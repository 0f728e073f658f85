"""Send a batch of events keyed by title: record batches per partition, acks awaited together.

Publishing was the largest cost of every stage. A stage's outputs leave together, so they
are grouped by the partition their key maps to, with the same murmur2 partitioner aiokafka
and the Java client use, and each group goes to aiokafka's producer as record batches
(``create_batch``/``send_batch``): per-key order is kept, every record keeps its key, and
metrics and the trace context are recorded once per batch (``trendkit.broker.make_publisher``
says why this is not FastStream's ``publish_batch``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import propagate

from trendkit.broker import make_publisher
from trendkit.contracts import Event
from trendkit.settings import CommonSettings

if TYPE_CHECKING:
    from aiokafka.producer.message_accumulator import BatchBuilder

    from trendkit.stage import StageMetrics

log = logging.getLogger(__name__)

PARTITION_CACHE_SIZE = 100_000  # keys (titles) whose partition is remembered


@dataclass
class Outbound:
    """An event to publish, on a logical topic (the publisher adds the prefix)."""

    topic: str
    event: Event

    @cached_property
    def value(self) -> bytes:
        """Return the event's JSON, encoded once however many places need it."""
        return self.event.model_dump_json().encode()


async def partition_counts(bootstrap_servers: str, topics: Iterable[str]) -> dict[str, int]:
    """Ask the cluster how many partitions each topic has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="trending-meta")
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["partitions"]}


class BatchPublisher:
    """A service's way out: a producer and the partition map of its topics."""

    def __init__(self, settings: CommonSettings, *, service: str) -> None:
        self._producer: AIOKafkaProducer | None = None
        self.settings = settings
        self.service = service
        self._partitions: dict[str, int] = {}
        self._partitioner = DefaultPartitioner()
        self._partition_by_key: dict[tuple[int, bytes], int] = {}

    async def start(self) -> None:
        """Connect the producer (aiokafka makes it inside the running event loop only)."""
        self._producer = make_publisher(self.settings, service=self.service)
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def producer(self) -> AIOKafkaProducer:
        """Return the connected producer."""
        if self._producer is None:
            raise RuntimeError(f"{self.service}: the publisher is not started")
        return self._producer

    async def publish(
        self, outputs: Sequence[Outbound], *, metrics: StageMetrics | None = None
    ) -> None:
        """Publish every event keyed by title, then wait for all acknowledgements together."""
        if not outputs:
            return
        started = time.perf_counter()
        # One correlation id for the batch: a consumer's batch span links to the trace
        # context of each correlation id it meets (FastStream's OpenTelemetry middleware).
        carried = {"content-type": "application/json", "correlation_id": str(uuid.uuid4())}
        propagate.inject(carried)  # the consuming span's trace context, once per batch
        headers = [(k, v.encode()) for k, v in carried.items()]
        groups: dict[tuple[str, int], list[Outbound]] = {}
        for out in outputs:
            topic = self.settings.topic(out.topic)
            partition = await self._partition_of(topic, out.event.key)
            groups.setdefault((topic, partition), []).append(out)
        pending = []
        for (topic, partition), group in groups.items():
            for batch in self._batches(group, headers):
                pending.append(await self.producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*pending)
        if metrics is not None:
            counts: dict[str, int] = {}
            for out in outputs:
                counts[out.topic] = counts.get(out.topic, 0) + 1
            for topic, count in counts.items():
                metrics.published.labels(topic, self.service).inc(count)
            metrics.publish_seconds.labels(self.service).observe(time.perf_counter() - started)

    def _batches(
        self, group: list[Outbound], headers: list[tuple[str, bytes]]
    ) -> Iterator[BatchBuilder]:
        """Yield record batches holding the group in order, each as full as the limit allows."""

        def add(batch: BatchBuilder, out: Outbound) -> bool:
            added = batch.append(
                key=out.event.key, value=out.value, timestamp=None, headers=headers
            )
            return added is not None

        batch = self.producer.create_batch()
        for out in group:
            if not add(batch, out):  # full: it goes, and the record starts the next one
                yield batch
                batch = self.producer.create_batch()
                add(batch, out)  # an empty batch takes one record of any size
        if batch.record_count():
            yield batch

    async def _partition_of(self, topic: str, key: bytes) -> int:
        count = self._partitions.get(topic)
        if count is None:
            self._partitions.update(
                await partition_counts(self.settings.kafka_bootstrap_servers, [topic])
            )
            count = self._partitions.get(topic)
            if count is None:
                raise LookupError(f"topic {topic} does not exist (create it at start-up)")
        found = self._partition_by_key.get((count, key))
        if found is None:
            # aiokafka's murmur2 is pure Python (7 µs a key): hash each key once, not once
            # per output (the scorer publishes a title in three windows at a time).
            if len(self._partition_by_key) >= PARTITION_CACHE_SIZE:
                self._partition_by_key.clear()
            every = list(range(count))
            found = self._partition_by_key[(count, key)] = int(self._partitioner(key, every, every))
        return found
