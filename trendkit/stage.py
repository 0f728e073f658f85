"""One pipeline hop: consume a batch, decode, call the domain, publish, then commit.

Delivery policy (DESIGN.md "Delivery semantics"), stated here once for every consumer:

* the subscriber is a FastStream batch subscriber with ``AckPolicy.MANUAL``: this module
  commits the input offsets itself, and only after the handler's writes succeeded and
  every output was acknowledged by the broker (at-least-once on the wire);
* a record that does not decode into the topic's contract can never succeed, so it goes
  to ``<topic>.dlq`` at once with the reason, and the rest of the batch flows on;
* a batch whose handler fails is retried (the consumer is rewound to it) with backoff; when it
  has failed ``dlq_max_attempts`` times the records are retried one by one, so that only
  the records that still fail are dead-lettered and nothing blocks the partition;
* handlers write with idempotent upserts and derive output event ids from input ids, so a
  redelivered batch changes nothing and republishes identical events;
* batches are pipelined one deep: while batch N's outputs are acknowledged and its writes
  land, batch N+1 is decoded and handled; N+1 is settled only after N, and offsets are
  committed explicitly per batch, in order. If N fails to settle, both are undone
  (``Outcome.on_failure``, newest first), the consumer is rewound to N, and N is retried
  without pipelining, as above.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from aiokafka import ConsumerRecord
from aiokafka import TopicPartition as AIOKafkaTopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.schemas import Topic
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import ValidationError

from trendkit.contracts import (
    DeadLetter,
    Event,
    describe_validation_error,
    dlq_topic,
    now_utc,
)
from trendkit.publish import BatchPublisher, Outbound
from trendkit.settings import CommonSettings

In = TypeVar("In", bound=Event)
log = logging.getLogger(__name__)


class PermanentError(Exception):
    """The input can never be processed (bad data, not a passing fault): dead-letter it.

    ``context`` travels into the dead letter (for example the answer a model gave).
    """

    def __init__(self, message: str, *, context: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.context = dict(context or {})


@dataclass
class Outcome:
    """What a handler made of a batch: outputs, and the writes that must land with them.

    The stage awaits ``persist`` (or ``record``) and the broker's acknowledgements of
    ``outputs`` concurrently (both are mostly waiting on another process), and commits
    the input offsets only when both succeeded. If either fails, ``on_failure`` undoes
    what the handler recorded in memory, so that the retried batch yields the same outputs.
    """

    outputs: Sequence[Outbound]
    persist: Callable[[], Awaitable[None]] | None = None
    on_failure: Callable[[], None] | None = None
    # Inputs the handler refused one by one (by event id): dead-lettered when the batch
    # settles, while the rest of the batch flows on.
    rejected: Mapping[str, PermanentError] = field(default_factory=dict)
    # Writes that are the record of what was published (the scorer rebuilds its state
    # from them: a crash between the two must leave the outputs to be made again, never
    # recorded as sent). Called with the outputs' acknowledgement, which it awaits before
    # committing its transaction: the writes travel while the broker acknowledges (one
    # wait instead of two in a row) and land only if every output was acknowledged.
    record: Callable[[Awaitable[None]], Awaitable[None]] | None = None


Handler = Callable[[list[In]], Awaitable[Sequence[Outbound] | Outcome]]


@dataclass(frozen=True, slots=True)
class Delivered(Generic[In]):
    """An event with where it came from and its bytes as received (to store, not re-encode)."""

    partition: int
    event: In
    value: bytes


# A handler that must know where each event came from (the scorer keeps a watermark per
# partition, since Kafka orders events only within one): called with Delivered events.
PartitionedHandler = Callable[[list[Delivered[In]]], Awaitable[Sequence[Outbound] | Outcome]]
# Work that time, not input, makes due; called with :meth:`BatchStage.silent_for`.
Tick = Callable[[float], Awaitable[Outcome | None]]


@dataclass
class StageMetrics:
    """Counters every stage exposes beside FastStream's own."""

    registry: CollectorRegistry
    dead_letters: Counter = field(init=False)
    batch_seconds: Histogram = field(init=False)
    processed: Counter = field(init=False)
    failures: Counter = field(init=False)
    published: Counter = field(init=False)
    publish_seconds: Histogram = field(init=False)
    lag: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.lag = Gauge(
            "trending_consumer_lag",
            "Messages behind the partition's high watermark after the last batch",
            ["topic", "group"],
            registry=self.registry,
        )
        self.published = Counter(
            "trending_published_messages",
            "Events a service published, by topic",
            ["topic", "service"],
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "trending_publish_batch_seconds",
            "Time to publish one batch of outputs and receive every acknowledgement",
            ["service"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.dead_letters = Counter(
            "trending_dead_letters",
            "Messages sent to a dead-letter topic",
            ["topic", "service"],
            registry=self.registry,
        )
        self.failures = Counter(
            "trending_stage_failures",
            "Batches whose handling, publishing or storing failed (each is retried)",
            ["topic", "service"],
            registry=self.registry,
        )
        self.processed = Counter(
            "trending_stage_processed_messages",
            "Messages a stage processed successfully",
            ["topic", "service"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "trending_stage_batch_seconds",
            "Time to handle one batch: decode, domain, publish, commit",
            ["topic", "service"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


Done = TypeVar("Done")
LOOP_TURN_S = 0.005


async def cooperatively(work: Generator[None, None, Done], turn_s: float = LOOP_TURN_S) -> Done:
    """Run ``work`` (a generator that pauses between pieces) to its end; return its value.

    Every ``turn_s`` of running, the event loop gets a turn. A handler that works through
    a batch in one go holds the loop for all of it, and the previous batch's settlement,
    pipelined to overlap it, cannot take a step meanwhile: each of its round trips to
    Postgres and the broker waited for the whole handler (the scorer's batches of 2,000
    titles: ~0.4 s of CPU, during which its previous batch's writes sat unsent).
    """
    deadline = time.perf_counter() + turn_s
    while True:
        try:
            next(work)
        except StopIteration as done:
            value: Done = done.value
            return value
        if time.perf_counter() >= deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + turn_s


def _raw_records(body: Any) -> list[ConsumerRecord[Any, Any]]:
    return list(body)


@dataclass
class _Settlement:
    """A handled batch on its way out: its outputs, writes and offset commit."""

    records: list[ConsumerRecord[Any, Any]]
    message: KafkaMessage
    outcome: Outcome
    task: asyncio.Task[None] | None = None
    error: BaseException | None = None


async def _settled(settlement: _Settlement) -> bool:
    """Wait for a settlement; say whether it succeeded (its error is kept on it)."""
    if settlement.task is None:
        return True
    try:
        # shield: a cancelled waiter (shutdown) must not cancel the settlement itself.
        await asyncio.shield(settlement.task)
    except Exception as exc:
        settlement.error = exc
        return False
    return True


def _undo(outcome: Outcome) -> None:
    if outcome.on_failure is not None:
        outcome.on_failure()


class BatchStage(Generic[In]):
    """A consumer of one topic that turns batches of events into outputs, exactly once in effect."""

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        publisher: BatchPublisher | None,
        settings: CommonSettings,
        service: str,
        input_topic: str,
        input_model: type[In],
        handler: Handler[In] | PartitionedHandler[In],
        metrics: StageMetrics,
        group_id: str | None = None,
        start_from: Literal["earliest", "latest"] = "earliest",
        partitioned: bool = False,
    ) -> None:
        self.broker = broker
        self.publisher = publisher
        self.settings = settings
        self.service = service
        self.input_topic = input_topic
        self.input_model = input_model
        self.handler = handler
        self.metrics = metrics
        self.group_id = group_id or settings.topic(service)
        # Where a new group starts: pipeline stages must see everything ("earliest"); a
        # fan-out replica that loads its snapshot from Postgres only needs what is new.
        self.start_from = start_from
        self.partitioned = partitioned
        self.retry_backoff_s = 0.1
        self.tick: Tick | None = None
        self.tick_interval_s = 1.0
        self._turn: asyncio.Lock | None = None
        self._attempts: dict[tuple[str, int, int], int] = {}
        self._inflight: _Settlement | None = None
        self._listening_since = time.monotonic()
        self._behind: dict[tuple[str, int], int] = {}

    def subscribe(self) -> None:
        """Register the batch subscriber on the broker."""
        topic = Topic(
            self.settings.topic(self.input_topic), num_partitions=self.settings.topic_partitions
        )

        async def decode_nothing(msg: KafkaMessage) -> Any:
            # The stage decodes each record itself so one bad record cannot fail the batch,
            # so the "body" is the message itself. Asking for it as a second parameter
            # (``message: KafkaMessage``) would make FastDepends resolve that context field
            # in a worker thread, once per batch: a thread hop, ~5 % of a stage's py-spy
            # samples at 500 titles/s.
            return msg

        @self.broker.subscriber(
            topic,
            batch=True,
            group_id=self.group_id,
            auto_offset_reset=self.start_from,
            ack_policy=AckPolicy.MANUAL,
            max_records=self.settings.consumer_max_records,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=min(2000, self.settings.consumer_session_timeout_ms // 3),
            batch_timeout_ms=100,
            decoder=decode_nothing,
            title=f"{self.service}:{self.input_topic}",
            description=f"{self.service} consumes {self.input_model.__name__} in batches",
        )
        async def on_batch(message: Any) -> None:
            await self.process(_raw_records(message.raw_message), message)

    def every(self, seconds: float, tick: Tick) -> None:
        """Call ``tick`` every ``seconds`` between batches (see :meth:`run_ticks`)."""
        self.tick = tick
        self.tick_interval_s = seconds

    async def run_ticks(self) -> None:
        """Run the tick until cancelled: for work that time, not input, makes due.

        A tick takes its turn between batches; its outcome is delivered (published and
        persisted) before the next batch is handled. It commits no offsets: it consumed
        nothing. If delivering fails, ``on_failure`` undoes it and the next tick tries again.
        The tick is told how long the stage has listened in vain (:meth:`silent_for`).
        """
        assert self.tick is not None
        while True:
            await asyncio.sleep(self.tick_interval_s)
            async with self._lock():
                inflight = self._inflight
                if inflight is not None and inflight.task is not None and not inflight.task.done():
                    # A batch is settling. Waiting for it here, holding the turn, would
                    # stop the next batch from being handled meanwhile; ticks are for
                    # quiet moments, and the next one comes soon.
                    continue
                if inflight is not None and not await _settled(inflight):
                    continue  # the next batch sees the failure and retries it
                try:
                    outcome = await self.tick(self.silent_for())
                    if outcome is not None:
                        await self._deliver_or_undo(outcome)
                except Exception:
                    log.exception("%s: tick failed; the next one tries again", self.service)

    def silent_for(self) -> float:
        """Return how long the stage has been free to consume and found nothing, in seconds.

        Counted from the end of the last batch, not its arrival: a batch that took five
        seconds to handle is not five seconds of silence. Zero while the last fetch saw
        records waiting in the broker behind those it delivered: more is on its way.
        """
        if any(self._behind.values()):
            return 0.0
        return time.monotonic() - self._listening_since

    def _lock(self) -> asyncio.Lock:
        if self._turn is None:
            self._turn = asyncio.Lock()
        return self._turn

    async def process(self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage) -> None:
        """Handle one delivered batch; its offsets are committed once it has settled."""
        if not records:
            return
        async with self._lock():
            try:
                await self._process(records, message)
            finally:
                self._listening_since = time.monotonic()

    async def _process(
        self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage
    ) -> None:
        if max(self._attempts.get(k, 0) for k in _first_offsets(records)) > 0:
            await self.drain()  # a batch with a failure behind it is retried in order, alone
            await self._process_alone(records, message)
            return
        started = time.perf_counter()
        events, dead = self._decode_all(records)
        previous = self._inflight
        try:
            outcome = await self._handle(events)
        except PermanentError as exc:
            dead.extend(self._dead_letter(r, exc, attempts=1) for r, _ in events)
            outcome = Outcome([])
        except Exception as exc:
            self._inflight = None
            if previous is not None and not await _settled(previous):
                await self._abandon([previous], [*previous.records, *records], message, exc)
            else:
                await self._abandon([], records, message, exc)
            return
        refused = self._rejected(events, outcome)
        dead.extend(refused)
        current = _Settlement(records=records, message=message, outcome=outcome)
        current.task = asyncio.create_task(
            self._settle(previous, current, dead, len(events) - len(refused))
        )
        self._inflight = current
        # One batch in flight at most: this one was handled while the previous one was
        # still settling; wait for that before taking another batch.
        if previous is not None and not await _settled(previous):
            self._inflight = None
            await _settled(current)  # fails too: it waits for the previous one
            await self._abandon(
                [current, previous], [*previous.records, *records], message, previous.error
            )
            return
        self.metrics.batch_seconds.labels(self.input_topic, self.service).observe(
            time.perf_counter() - started
        )

    async def drain(self) -> None:
        """Wait for the batch in flight to settle (at shutdown, or before a retry)."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not await _settled(inflight):
            # Nothing was committed: the batch comes again; undo what it recorded.
            _undo(inflight.outcome)

    async def _settle(
        self,
        previous: _Settlement | None,
        current: _Settlement,
        dead: list[DeadLetter],
        processed: int,
    ) -> None:
        if previous is not None and not await _settled(previous):
            raise RuntimeError("the batch before this one failed to settle")
        try:
            await self._deliver(current.outcome)
            await self._publish_dead(dead)
            await self._commit(current.records, current.message)
        except Exception:
            # Rewind now, so that the batch comes again even if nothing follows it; the
            # next process() call sees the failure, undoes it and counts the attempt.
            self._seek_to_start(current.records, current.message)
            raise
        self._after_commit(current.records, current.message, processed)

    async def _abandon(
        self,
        failed: list[_Settlement],
        rewind: list[ConsumerRecord[Any, Any]],
        message: KafkaMessage,
        exc: BaseException | None,
    ) -> None:
        """Undo what failed (newest first), rewind the consumer, back off, and retry."""
        for settlement in failed:
            _undo(settlement.outcome)
        oldest = failed[-1].records if failed else rewind
        attempts = self._count_attempt(oldest)
        self.metrics.failures.labels(self.input_topic, self.service).inc()
        log.warning(
            "%s: batch of %d failed (attempt %d/%d), will retry: %r",
            self.service,
            len(oldest),
            attempts,
            self.settings.dlq_max_attempts,
            exc,
        )
        self._seek_to_start(rewind, message)
        await asyncio.sleep(min(self.retry_backoff_s * 2**attempts, 5.0))

    async def _process_alone(
        self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage
    ) -> None:
        """Handle a batch that failed before: settle it inline, isolate poison records."""
        events, dead = self._decode_all(records)
        try:
            if events:
                dead.extend(self._rejected(events, await self._run(events)))
        except PermanentError as exc:
            dead.extend(self._dead_letter(r, exc, attempts=1) for r, _ in events)
        except Exception as exc:
            attempts = self._count_attempt(records)
            self.metrics.failures.labels(self.input_topic, self.service).inc()
            if attempts < self.settings.dlq_max_attempts:
                log.warning(
                    "%s: batch of %d failed (attempt %d/%d), will retry: %r",
                    self.service,
                    len(records),
                    attempts,
                    self.settings.dlq_max_attempts,
                    exc,
                )
                # Undecodable records are dead-lettered when the batch finally settles
                # (they decode the same way on redelivery), so once, not per attempt.
                self._seek_to_start(records, message)
                await asyncio.sleep(min(self.retry_backoff_s * 2**attempts, 5.0))
                return
            dead.extend(await self._one_by_one(events, attempts))
        await self._publish_dead(dead)
        await self._commit(records, message)
        self._after_commit(records, message, len(events))

    def _decode_all(
        self, records: list[ConsumerRecord[Any, Any]]
    ) -> tuple[list[tuple[ConsumerRecord[Any, Any], In]], list[DeadLetter]]:
        events: list[tuple[ConsumerRecord[Any, Any], In]] = []
        dead: list[DeadLetter] = []
        for record in records:
            try:
                events.append((record, self._decode(record)))
            except PermanentError as exc:
                dead.append(self._dead_letter(record, exc, attempts=1))
        return events, dead

    async def _commit(self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage) -> None:
        # Explicit offsets, not "everything consumed so far": with a batch in flight, the
        # consumer's position is already past records that are not settled yet.
        last: dict[AIOKafkaTopicPartition, int] = {}
        for r in records:
            tp = AIOKafkaTopicPartition(r.topic, r.partition)
            last[tp] = max(last.get(tp, -1), r.offset)
        await message.consumer.commit({tp: offset + 1 for tp, offset in last.items()})  # type: ignore[call-arg]

    def _seek_to_start(
        self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage
    ) -> None:
        for topic, partition, offset in _first_offsets(records):
            message.consumer.seek(AIOKafkaTopicPartition(topic, partition), offset)

    def _after_commit(
        self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage, processed: int
    ) -> None:
        self._record_lag(records, message)
        self._forget(records)
        self.metrics.processed.labels(self.input_topic, self.service).inc(processed)
        log.debug("%s: settled a batch of %d", self.service, len(records))

    def _record_lag(self, records: list[ConsumerRecord[Any, Any]], message: KafkaMessage) -> None:
        # The fetch high watermark is right on Tansu too (its end offsets are not; DESIGN.md).
        highwater = getattr(message.consumer, "highwater", None)
        if highwater is None or not records:
            return
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        for (topic, partition), offset in last.items():
            mark = highwater(AIOKafkaTopicPartition(topic, partition))
            if mark is not None:
                self._behind[(topic, partition)] = max(0, mark - offset - 1)
        # Partitions taken away by a rebalance are no longer ours to wait for.
        assignment = getattr(message.consumer, "assignment", None)
        if assignment is not None:
            assigned = {(tp.topic, tp.partition) for tp in assignment()}
            self._behind = {tp: n for tp, n in self._behind.items() if tp in assigned}
        self.metrics.lag.labels(self.input_topic, self.group_id).set(sum(self._behind.values()))

    def _decode(self, record: ConsumerRecord[Any, Any]) -> In:
        if record.value is None:
            raise PermanentError("empty message (tombstone) where an event was expected")
        try:
            return self.input_model.model_validate_json(record.value)
        except ValidationError as exc:
            raise PermanentError(
                f"{self.input_model.__name__} rejected: {describe_validation_error(exc)}"
            ) from exc

    async def _handle(self, events: list[tuple[ConsumerRecord[Any, Any], In]]) -> Outcome:
        if not events:
            return Outcome([])
        handler: Callable[[list[Any]], Awaitable[Sequence[Outbound] | Outcome]] = self.handler
        if self.partitioned:
            handled = await handler([Delivered(r.partition, e, r.value) for r, e in events])
        else:
            handled = await handler([e for _, e in events])
        return handled if isinstance(handled, Outcome) else Outcome(handled)

    async def _deliver(self, outcome: Outcome) -> None:
        publishing = asyncio.ensure_future(self._publish(outcome.outputs))
        writes = []
        if outcome.persist is not None:
            writes.append(outcome.persist())
        if outcome.record is not None:
            # shield: a record that fails or is cancelled must not cancel the publishing.
            writes.append(outcome.record(asyncio.shield(publishing)))
        # Every job runs to its end before a failure is raised: nothing of this batch may
        # still be running when it is retried.
        for result in await asyncio.gather(publishing, *writes, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    async def _run(self, events: list[tuple[ConsumerRecord[Any, Any], In]]) -> Outcome:
        outcome = await self._handle(events)
        await self._deliver_or_undo(outcome)
        return outcome

    async def _deliver_or_undo(self, outcome: Outcome) -> None:
        try:
            await self._deliver(outcome)
        except Exception:
            _undo(outcome)
            raise

    def _rejected(
        self, events: list[tuple[ConsumerRecord[Any, Any], In]], outcome: Outcome
    ) -> list[DeadLetter]:
        if not outcome.rejected:
            return []
        return [
            self._dead_letter(record, outcome.rejected[event.event_id], attempts=1)
            for record, event in events
            if event.event_id in outcome.rejected
        ]

    async def _publish(self, outputs: Sequence[Outbound]) -> None:
        if not outputs:
            return
        if self.publisher is None:
            raise RuntimeError(f"{self.service}: a handler returned outputs but has no publisher")
        await self.publisher.publish(outputs, metrics=self.metrics)

    async def _one_by_one(
        self, events: list[tuple[ConsumerRecord[Any, Any], In]], attempts: int
    ) -> list[DeadLetter]:
        dead: list[DeadLetter] = []
        for record, event in events:
            try:
                dead.extend(self._rejected([(record, event)], await self._run([(record, event)])))
            except Exception as exc:
                dead.append(self._dead_letter(record, exc, attempts=attempts + 1))
        return dead

    async def _publish_dead(self, dead: Sequence[DeadLetter]) -> None:
        if not dead:
            return
        topic = self.settings.topic(dlq_topic(self.input_topic))
        pending = []
        for letter in dead:
            log.error(
                "%s: dead-lettered %s[%d]@%d after %d attempt(s): %s",
                self.service,
                letter.topic,
                letter.partition,
                letter.offset,
                letter.attempts,
                letter.error,
            )
            pending.append(
                await self.broker.publish(
                    letter.model_dump_json().encode(),
                    topic,
                    key=letter.key.encode("latin-1") if letter.key is not None else None,
                    headers={"content-type": "application/json", "x-error": letter.error[:200]},
                    no_confirm=True,
                )
            )
        await asyncio.gather(*pending)
        self.metrics.dead_letters.labels(self.input_topic, self.service).inc(len(dead))

    def _dead_letter(
        self, record: ConsumerRecord[Any, Any], exc: BaseException, *, attempts: int
    ) -> DeadLetter:
        return DeadLetter(
            topic=self.input_topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode("latin-1") if record.key is not None else None,
            value=base64.b64encode(record.value or b"").decode(),
            headers={k: base64.b64encode(v or b"").decode() for k, v in record.headers or ()},
            error=str(exc) or repr(exc),
            error_type=type(exc).__name__,
            service=self.service,
            attempts=attempts,
            failed_at=now_utc(),
            context=exc.context if isinstance(exc, PermanentError) else {},
        )

    def _count_attempt(self, records: list[ConsumerRecord[Any, Any]]) -> int:
        first = _first_offsets(records)
        attempts = 1 + max((self._attempts.get(k, 0) for k in first), default=0)
        for k in first:
            self._attempts[k] = attempts
        return attempts

    def _forget(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        if self._attempts:
            for k in _first_offsets(records):
                self._attempts.pop(k, None)


def _first_offsets(records: list[ConsumerRecord[Any, Any]]) -> list[tuple[str, int, int]]:
    first: dict[tuple[str, int], int] = {}
    for r in records:
        tp = (r.topic, r.partition)
        first[tp] = min(first.get(tp, r.offset), r.offset)
    return [(t, p, o) for (t, p), o in first.items()]


__all__ = ["BatchStage", "Outbound", "Outcome", "PermanentError", "StageMetrics"]
