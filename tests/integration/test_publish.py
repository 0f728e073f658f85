"""A stage's way out (BatchPublisher) against the real broker: order, keys, headers, limits."""

from __future__ import annotations

import pytest

from tests.factories import title_observed
from tests.kafka_io import consume_until
from trendkit.broker import MAX_BATCH_BYTES, ensure_topics
from trendkit.contracts import TITLES_RAW, TitleObserved
from trendkit.publish import BatchPublisher, Outbound
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration


async def test_a_large_publication_arrives_whole_keyed_and_in_order_per_title(
    settings: CommonSettings,
) -> None:
    await ensure_topics(settings, [TITLES_RAW])
    # ~1 MB in all, three observations of each title: more than one record batch holds,
    # so each partition's group leaves in several batches.
    overview = "A long overview. " * 120
    events = [
        title_observed(name=f"Title {i % 200}", rank=i // 200 + 1, overview=overview)
        for i in range(600)
    ]
    assert sum(len(e.model_dump_json()) for e in events) > 3 * MAX_BATCH_BYTES
    publisher = BatchPublisher(settings, service="test")
    await publisher.start()
    try:
        await publisher.publish([Outbound(TITLES_RAW, e) for e in events])
    finally:
        await publisher.stop()

    records = await consume_until(settings, TITLES_RAW, lambda rs: len(rs) >= len(events))
    assert sorted(r.value for r in records) == sorted(e.model_dump_json().encode() for e in events)
    # Every record keyed by its title, and each title's observations in the order published.
    ranks: dict[str, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = TitleObserved.model_validate_json(record.value)
        assert record.key == event.key
        ranks.setdefault(event.title_id, []).append(event.observation.rank)
    assert len(ranks) == 200
    assert all(seen == [1, 2, 3] for seen in ranks.values())
    # One correlation id per publication: a consumer's batch span links to it.
    headers = [dict(r.headers) for r in records]
    assert {h["content-type"] for h in headers} == {b"application/json"}
    assert len({h["correlation_id"] for h in headers}) == 1


async def test_an_event_larger_than_a_record_batch_leaves_in_one_of_its_own(
    settings: CommonSettings,
) -> None:
    await ensure_topics(settings, [TITLES_RAW])
    event = title_observed(name="Huge")
    # Larger than the contract allows, so built without validation: the limit is the
    # producer's, whatever the event.
    huge = event.model_copy(
        update={"title": event.title.model_copy(update={"overview": "x" * MAX_BATCH_BYTES})}
    )
    small = [title_observed(name="Huge", rank=r) for r in (2, 3)]  # same title, same partition
    publisher = BatchPublisher(settings, service="test")
    await publisher.start()
    try:
        await publisher.publish([Outbound(TITLES_RAW, e) for e in (small[0], huge, small[1])])
    finally:
        await publisher.stop()

    records = await consume_until(settings, TITLES_RAW, lambda rs: len(rs) >= 3)
    assert [r.value for r in sorted(records, key=lambda r: r.offset)] == [
        e.model_dump_json().encode() for e in (small[0], huge, small[1])
    ]


async def test_publishing_before_start_says_so(settings: CommonSettings) -> None:
    publisher = BatchPublisher(settings, service="test")
    with pytest.raises(RuntimeError, match="not started"):
        await publisher.publish([Outbound(TITLES_RAW, title_observed(name="Early"))])
