"""Consumer-group lag, computed the way that is right on Tansu and on Kafka alike.

Tansu reports a wrong end offset after a multi-record batch and cannot list group offsets
through the admin API (DESIGN.md), so lag = fetch high watermark − committed offset, with
the committed offset read through ``consumer.committed()`` and the high watermark taken
from a real fetch.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass(frozen=True)
class GroupLag:
    """How far one consumer group is behind on one topic."""

    group: str
    topic: str
    committed: int
    high_watermark: int

    @property
    def lag(self) -> int:
        """Return the messages not yet committed."""
        return max(0, self.high_watermark - self.committed)


async def group_lag(bootstrap_servers: str, group: str, topic: str) -> GroupLag:
    """Measure one group's lag on one topic without joining (or disturbing) the group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()  # topic created after start
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        committed = 0
        for tp in tps:
            offset = await consumer.committed(tp)
            committed += offset or 0
            consumer.seek(tp, offset or 0)
        await consumer.getmany(*tps, timeout_ms=1000, max_records=len(tps))
        high = sum(consumer.highwater(tp) or 0 for tp in tps)
        return GroupLag(group=group, topic=topic, committed=committed, high_watermark=high)
    finally:
        await consumer.stop()
