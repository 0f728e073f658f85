"""The batch stage's delivery policy, with the broker replaced by recording fakes."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Generator, Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from tests.factories import title_observed
from trendkit.contracts import TITLES_ENRICHED, TITLES_RAW, DeadLetter, TitleObserved
from trendkit.settings import CommonSettings
from trendkit.stage import (
    BatchStage,
    Outbound,
    Outcome,
    PermanentError,
    StageMetrics,
    cooperatively,
)


class RecordingBroker:
    """Stands in for a KafkaBroker: every publish is recorded and acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def publish(
        self, value: bytes, topic: str, *, key: bytes | None, headers: Any, no_confirm: bool
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def on(self, topic: str) -> list[bytes]:
        return [value for t, _, value in self.sent if t == topic]


class RecordingPublisher:
    """Stands in for a BatchPublisher, recording into the broker's log."""

    def __init__(self, broker: RecordingBroker, prefix: str) -> None:
        self.broker = broker
        self.prefix = prefix

    async def publish(self, outputs: Sequence[Outbound], *, metrics: object = None) -> None:
        for out in outputs:
            self.broker.sent.append((self.prefix + out.topic, out.event.key, out.value))


class Consumer:
    """Stands in for the aiokafka consumer: records commits and rewinds."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.committed: dict[Any, int] = {}

    async def commit(self, offsets: dict[Any, int]) -> None:
        self.committed.update(offsets)
        self.log.append("commit " + ",".join(str(o) for o in offsets.values()))

    def seek(self, partition: Any, offset: int) -> None:
        self.log.append(f"seek {offset}")


class Delivery:
    """Stands in for FastStream's KafkaMessage: records how the batch was settled."""

    def __init__(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        self.raw_message = tuple(records)
        self.settled: list[str] = []
        self.consumer = Consumer(self.settled)


def record(offset: int, value: bytes | None, key: bytes = b"k") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="p.titles.raw",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value or b""),
        headers=[("h", b"v")],
    )


def make_stage(handler: Any) -> tuple[BatchStage[TitleObserved], RecordingBroker]:
    broker = RecordingBroker()
    stage: BatchStage[TitleObserved] = BatchStage(
        broker=broker,  # type: ignore[arg-type]
        publisher=RecordingPublisher(broker, "p."),  # type: ignore[arg-type]
        settings=CommonSettings(topic_prefix="p.", dlq_max_attempts=3),
        service="enricher",
        input_topic=TITLES_RAW,
        input_model=TitleObserved,
        handler=handler,
        metrics=StageMetrics(CollectorRegistry()),
    )
    stage.retry_backoff_s = 0
    return stage, broker


def batch(names: Sequence[str]) -> tuple[list[TitleObserved], list[ConsumerRecord[bytes, bytes]]]:
    events = [title_observed(name=n) for n in names]
    return events, [record(i, e.model_dump_json().encode(), e.key) for i, e in enumerate(events)]


async def echo(events: list[TitleObserved]) -> list[Outbound]:
    return [Outbound(TITLES_ENRICHED, e) for e in events]


async def test_a_poison_record_is_retried_then_isolated_and_dead_lettered() -> None:
    async def handler(events: list[TitleObserved]) -> list[Outbound]:
        if any(e.title.name == "Poison" for e in events):
            raise RuntimeError("cannot enrich Poison")
        return await echo(events)

    stage, broker = make_stage(handler)
    _, records = batch(["A", "Poison", "B"])
    deliveries = [Delivery(records) for _ in range(3)]
    for delivery in deliveries:
        await stage.process(list(delivery.raw_message), delivery)  # type: ignore[arg-type]

    assert [d.settled for d in deliveries] == [["seek 0"], ["seek 0"], ["commit 3"]]
    published = [json.loads(v)["title"]["name"] for v in broker.on("p.titles.enriched")]
    assert published == ["A", "B"]
    [letter] = [DeadLetter.model_validate_json(v) for v in broker.on("p.titles.raw.dlq")]
    assert letter.error == "cannot enrich Poison"
    assert letter.error_type == "RuntimeError"
    assert letter.attempts == 4  # three as a batch, one on its own
    assert (letter.partition, letter.offset) == (0, 1)
    assert base64.b64decode(letter.value) == records[1].value
    assert letter.headers == {"h": base64.b64encode(b"v").decode()}


async def test_a_bad_record_in_a_retried_batch_is_dead_lettered_once() -> None:
    calls = 0

    async def flaky(events: list[TitleObserved]) -> list[Outbound]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        return await echo(events)

    stage, broker = make_stage(flaky)
    _, records = batch(["A"])
    records.append(record(1, b"{"))
    for delivery in (Delivery(records), Delivery(records)):
        await stage.process(records, delivery)  # type: ignore[arg-type]
    await stage.drain()
    assert len(broker.on("p.titles.raw.dlq")) == 1
    assert len(broker.on("p.titles.enriched")) == 1


async def test_a_passing_fault_is_retried_and_nothing_is_dead_lettered() -> None:
    calls = 0

    async def flaky(events: list[TitleObserved]) -> list[Outbound]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        return await echo(events)

    stage, broker = make_stage(flaky)
    _, records = batch(["A", "B"])
    first, second = Delivery(records), Delivery(records)
    await stage.process(records, first)  # type: ignore[arg-type]
    await stage.process(records, second)  # type: ignore[arg-type]
    await stage.drain()
    assert (first.settled, second.settled) == (["seek 0"], ["commit 2"])
    assert len(broker.on("p.titles.enriched")) == 2
    assert broker.on("p.titles.raw.dlq") == []
    failures = stage.metrics.registry.get_sample_value(
        "trending_stage_failures_total", {"topic": "titles.raw", "service": "enricher"}
    )
    assert failures == 1


async def test_a_permanent_error_dead_letters_at_once() -> None:
    async def refuse(events: list[TitleObserved]) -> list[Outbound]:
        raise PermanentError("overview is not text")

    stage, broker = make_stage(refuse)
    _, records = batch(["A", "B"])
    delivery = Delivery(records)
    await stage.process(records, delivery)  # type: ignore[arg-type]
    await stage.drain()
    assert delivery.settled == ["commit 2"]
    letters = [DeadLetter.model_validate_json(v) for v in broker.on("p.titles.raw.dlq")]
    assert [(x.offset, x.attempts, x.error) for x in letters] == [
        (0, 1, "overview is not text"),
        (1, 1, "overview is not text"),
    ]


async def test_records_a_handler_rejects_are_dead_lettered_with_context_and_the_rest_flow_on() -> (
    None
):
    async def judge(events: list[TitleObserved]) -> Outcome:
        bad = {e.event_id for e in events if e.title.name == "Garbled"}
        return Outcome(
            [Outbound(TITLES_ENRICHED, e) for e in events if e.event_id not in bad],
            rejected={
                event_id: PermanentError("genres.0: not in the taxonomy", context={"raw": "{}"})
                for event_id in bad
            },
        )

    stage, broker = make_stage(judge)
    _, records = batch(["A", "Garbled", "B"])
    delivery = Delivery(records)
    await stage.process(records, delivery)  # type: ignore[arg-type]
    await stage.drain()
    assert delivery.settled == ["commit 3"]
    published = [json.loads(v)["title"]["name"] for v in broker.on("p.titles.enriched")]
    assert published == ["A", "B"]
    [letter] = [DeadLetter.model_validate_json(v) for v in broker.on("p.titles.raw.dlq")]
    assert (letter.offset, letter.attempts) == (1, 1)
    assert letter.error == "genres.0: not in the taxonomy"
    assert letter.context == {"raw": "{}"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty message"),
        (b"{", "TitleObserved rejected: <payload>: Invalid JSON"),
        (json.dumps({"event_id": "x"}).encode(), "TitleObserved rejected: event_id: String should"),
    ],
)
async def test_undecodable_records_are_dead_lettered_with_the_reason(
    value: bytes | None, reason: str
) -> None:
    stage, broker = make_stage(echo)
    events, records = batch(["A"])
    bad = record(1, value)
    delivery = Delivery([*records, bad])
    await stage.process([*records, bad], delivery)  # type: ignore[arg-type]
    await stage.drain()
    [letter] = [DeadLetter.model_validate_json(v) for v in broker.on("p.titles.raw.dlq")]
    assert letter.error.startswith(reason)
    assert [json.loads(v)["event_id"] for v in broker.on("p.titles.enriched")] == [
        events[0].event_id
    ]


def later_batch(names: Sequence[str], first_offset: int) -> list[ConsumerRecord[bytes, bytes]]:
    events = [title_observed(name=n) for n in names]
    return [
        record(first_offset + i, e.model_dump_json().encode(), e.key) for i, e in enumerate(events)
    ]


async def test_batches_are_pipelined_and_committed_in_order() -> None:
    order: list[str] = []
    release = asyncio.Event()

    async def handler(events: list[TitleObserved]) -> Outcome:
        name = events[0].title.name
        order.append(f"handle {name}")

        async def persist() -> None:
            if name == "A":
                await release.wait()  # the first batch's write is slow
            order.append(f"stored {name}")

        return Outcome([Outbound(TITLES_ENRICHED, e) for e in events], persist)

    stage, broker = make_stage(handler)
    published = broker.on("p.titles.enriched")
    first, second = later_batch(["A"], 0), later_batch(["B"], 1)
    d1, d2 = Delivery(first), Delivery(second)
    await stage.process(first, d1)  # type: ignore[arg-type]
    waiting = asyncio.create_task(stage.process(second, d2))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert order == ["handle A", "handle B"]  # B was handled while A was still being stored
    assert d1.settled == d2.settled == []
    release.set()
    await waiting
    await stage.drain()
    assert order == ["handle A", "handle B", "stored A", "stored B"]
    assert (d1.settled, d2.settled) == (["commit 1"], ["commit 2"])
    assert [json.loads(v)["title"]["name"] for v in broker.on("p.titles.enriched")] == ["A", "B"]
    assert published == []


async def test_a_batch_that_fails_to_settle_is_undone_with_the_one_behind_it() -> None:
    undone: list[str] = []

    async def handler(events: list[TitleObserved]) -> Outcome:
        name = events[0].title.name

        async def persist() -> None:
            if name == "A":
                raise ConnectionError("database gone")

        return Outcome(
            [Outbound(TITLES_ENRICHED, e) for e in events],
            persist,
            on_failure=lambda: undone.append(name),
        )

    stage, _ = make_stage(handler)
    first, second = later_batch(["A"], 0), later_batch(["B"], 1)
    d1, d2 = Delivery(first), Delivery(second)
    await stage.process(first, d1)  # type: ignore[arg-type]
    await stage.process(second, d2)  # type: ignore[arg-type]
    assert undone == ["B", "A"]  # newest first
    assert "commit" not in " ".join(d1.settled + d2.settled)
    assert d2.settled[-1] == "seek 0"  # rewound to the first batch
    # Redelivered, the first batch now settles on its own.
    again = Delivery([*first, *second])
    await stage.process([*first, *second], again)  # type: ignore[arg-type]
    assert undone == ["B", "A", "A"]  # it still fails: undone again, and retried alone


class GatedPublisher:
    """A publisher whose acknowledgements come when the test says, or fail."""

    def __init__(self) -> None:
        self.acknowledge = asyncio.Event()
        self.error: Exception | None = None

    async def publish(self, outputs: Sequence[Outbound], *, metrics: object = None) -> None:
        await self.acknowledge.wait()
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize("fails", [False, True])
async def test_a_record_writes_while_the_outputs_are_acknowledged_and_commits_only_after(
    fails: bool,
) -> None:
    log: list[str] = []

    async def handler(events: list[TitleObserved]) -> Outcome:
        async def record(published: Any) -> None:
            log.append("written")
            await published  # a failed publication fails the record before its commit
            log.append("committed")

        return Outcome(
            [Outbound(TITLES_ENRICHED, e) for e in events],
            record=record,
            on_failure=lambda: log.append("undone"),
        )

    stage, _ = make_stage(handler)
    publisher = GatedPublisher()
    stage.publisher = publisher  # type: ignore[assignment]
    if fails:
        publisher.error = ConnectionError("broker gone")
    records = later_batch(["A"], 0)
    delivery = Delivery(records)
    await stage.process(records, delivery)  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert log == ["written"]  # the writes went out before any acknowledgement came
    assert delivery.settled == []
    publisher.acknowledge.set()
    await stage.drain()
    if fails:
        assert log == ["written", "undone"]
        assert "commit" not in " ".join(delivery.settled)
    else:
        assert log == ["written", "committed"]
        assert delivery.settled == ["commit 1"]


async def test_cooperative_work_lets_other_tasks_run_and_returns_its_value() -> None:
    """A handler's long run gives the loop turns (the previous batch's settlement runs in
    them) and still returns what the work made."""
    steps: list[int] = []
    turns: list[int] = []

    def work() -> Generator[None, None, str]:
        for i in range(200):
            steps.append(i)
            time.sleep(0.0002)  # a piece of CPU-bound work
            yield
        return "done"

    async def elsewhere() -> None:
        while True:
            turns.append(len(steps))  # how far the work was when this task got a turn
            await asyncio.sleep(0)

    other = asyncio.create_task(elsewhere())
    try:
        await asyncio.sleep(0)
        assert await cooperatively(work(), turn_s=0.005) == "done"
    finally:
        other.cancel()
    assert steps == list(range(200))
    # It had turns in the middle of the work, not only before and after it, but not one
    # per piece: the work keeps the loop for a turn's worth of time at a time.
    during = [t for t in turns if 0 < t < 200]
    assert 2 <= len(during) < 100
