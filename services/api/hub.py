"""The trend hub: the current ranking per window and the websocket clients that watch it.

Scored events come in through :meth:`TrendHub.apply` (from the Kafka consumer) or
:meth:`TrendHub.load_snapshot` (from Postgres at start-up). A flush loop coalesces changes:
every ``flush_interval`` seconds each subscribed client gets at most ONE message, a
``delta`` against what it last received, or a ``snapshot`` when it is new or fell behind.

Fan-out never waits on a client. Each client has a bounded queue that its websocket writer
drains; when the queue is full the client's backlog is dropped and it is sent a fresh
snapshot instead, so a slow client costs memory bounded by its queue and slows nobody.
Messages are encoded once and the same text is shared by every client that gets it.

No FastAPI or FastStream here: the hub is plain asyncio, tested as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext

from trendkit.contracts import WINDOWS, MediaType, TrendScored, Window, now_utc

if TYPE_CHECKING:
    from services.api.settings import ApiSettings

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 16
DEFAULT_FLUSH_INTERVAL = 0.25
DEFAULT_HEARTBEAT_INTERVAL = 15.0
DEFAULT_MAX_TITLES_PER_WINDOW = 2000


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a client watches: one window, optional filters, the top ``limit`` that pass.

    Equal subscriptions are one view: the hub computes and encodes it once per flush for
    every client that holds it, so this is frozen and hashable.
    """

    window: Window = "day"
    genres: frozenset[str] = frozenset()
    media_types: frozenset[MediaType] = frozenset()
    limit: int = 50
    sources: frozenset[str] = frozenset()
    min_score: float = 0.0

    def __post_init__(self) -> None:
        # Genres and sources compare case-insensitively; fold once here, not per item.
        object.__setattr__(self, "genres", frozenset(g.casefold() for g in self.genres))
        object.__setattr__(self, "sources", frozenset(s.casefold() for s in self.sources))
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")

    @property
    def filtered(self) -> bool:
        """Say whether any filter is set (without one, the view is a plain prefix)."""
        return bool(self.genres or self.media_types or self.sources or self.min_score > 0)

    def matches(self, item: TrendScored) -> bool:
        """Return whether an item passes every filter (each one unset passes everything)."""
        if self.media_types and item.title.media_type not in self.media_types:
            return False
        if item.score < self.min_score:
            return False
        if self.sources and not any(s.casefold() in self.sources for s in item.components.sources):
            return False
        return not self.genres or any(g.casefold() in self.genres for g in item.genres)


@dataclass(eq=False)
class Client:
    """One connected websocket: its subscription, its outbox, and what it was last sent."""

    id: int
    queue: asyncio.Queue[str]
    subscription: Subscription | None = None
    needs_snapshot: bool = False
    sent: dict[str, TrendScored] = field(default_factory=dict)
    last_seq: int = 0
    dropped_backlogs: int = 0


@dataclass
class HubStats:
    """Counters for health checks and metrics."""

    events_applied: int = 0
    events_out_of_order: int = 0
    messages_enqueued: int = 0
    snapshots_sent: int = 0
    deltas_sent: int = 0
    backlogs_dropped: int = 0
    encodes: int = 0
    errors_sent: int = 0
    refusals: dict[str, int] = field(default_factory=dict)

    def refused(self, kind: str) -> None:
        """Count a connection the server closed, by why (too_big, rate_limited…)."""
        self.refusals[kind] = self.refusals.get(kind, 0) + 1


# The span of a flush links to the spans that applied its events (the consumer's, carrying
# the trace from the scrape); bounded, like the span links FastStream makes per batch.
MAX_TRACE_LINKS = 32
_tracer = trace.get_tracer("trending.api.hub")


def _rank_key(item: TrendScored) -> tuple[int, float, str]:
    return (item.rank, -item.score, item.title_id)


class TrendHub:
    """Holds the live rankings and fans coalesced changes out to subscribed clients."""

    def __init__(
        self,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        max_titles_per_window: int = DEFAULT_MAX_TITLES_PER_WINDOW,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.queue_size = queue_size
        self.max_titles_per_window = max_titles_per_window
        self.stats = HubStats()
        self._clock = clock
        self._rankings: dict[Window, dict[str, TrendScored]] = {w: {} for w in WINDOWS}
        self._sorted: dict[Window, list[TrendScored]] = {}
        self._dirty: set[Window] = set()
        self._clients: dict[int, Client] = {}
        self._client_ids = itertools.count(1)
        self._seq = 0
        # (window, title_id) -> (item, its JSON): each item is encoded once, however many
        # clients and messages carry it.
        self._item_json: dict[tuple[str, str], tuple[TrendScored, str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._trace_links: list[SpanContext] = []

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> TrendHub:
        """Build a hub with the flush, heartbeat and queue sizes an operator configured."""
        return cls(
            flush_interval=settings.ws_flush_interval_s,
            heartbeat_interval=settings.ws_heartbeat_interval_s,
            queue_size=settings.ws_queue_size,
        )

    # --- state ------------------------------------------------------------------------

    def apply(self, events: Sequence[TrendScored]) -> None:
        """Take scored events into the rankings; an event older than the one held is ignored."""
        context = trace.get_current_span().get_span_context()
        if context.is_valid and len(self._trace_links) < MAX_TRACE_LINKS:
            self._trace_links.append(context)  # the next flush's span links to it
        for event in events:
            ranking = self._rankings[event.window]
            current = ranking.get(event.title_id)
            if current is not None and event.observed_at < current.observed_at:
                self.stats.events_out_of_order += 1
                continue
            ranking[event.title_id] = event
            self._dirty.add(event.window)
            self._sorted.pop(event.window, None)
            self.stats.events_applied += 1
        for window in WINDOWS:
            if len(self._rankings[window]) > self.max_titles_per_window:
                self._prune(window)

    def load_snapshot(self, items: Iterable[TrendScored]) -> None:
        """Seed the rankings, e.g. from Postgres at start-up (same ordering rules as apply)."""
        self.apply(list(items))

    def ranking(
        self,
        window: Window,
        *,
        genres: Iterable[str] = (),
        media_types: Iterable[MediaType] = (),
        limit: int = 50,
        sources: Iterable[str] = (),
        min_score: float = 0.0,
    ) -> list[TrendScored]:
        """Return the top ``limit`` items of a window that pass the filters, by rank."""
        return self._view(
            Subscription(
                window,
                frozenset(genres),
                frozenset(media_types),
                limit,
                frozenset(sources),
                min_score,
            )
        )

    def title_counts(self) -> dict[Window, int]:
        """Return how many titles each window holds."""
        return {w: len(r) for w, r in self._rankings.items()}

    def _sorted_window(self, window: Window) -> list[TrendScored]:
        ordered = self._sorted.get(window)
        if ordered is None:
            ordered = sorted(self._rankings[window].values(), key=_rank_key)
            self._sorted[window] = ordered
        return ordered

    def _view(self, sub: Subscription) -> list[TrendScored]:
        ordered = self._sorted_window(sub.window)
        if not sub.filtered:
            return ordered[: sub.limit]
        return list(itertools.islice((i for i in ordered if sub.matches(i)), sub.limit))

    def _prune(self, window: Window) -> None:
        # Keep memory bounded: the worst-ranked titles can never reach a limit-200 view.
        ranking = self._rankings[window]
        for item in self._sorted_window(window)[self.max_titles_per_window :]:
            del ranking[item.title_id]
            self._item_json.pop((window, item.title_id), None)
        self._sorted.pop(window, None)

    # --- clients ----------------------------------------------------------------------

    @property
    def clients(self) -> list[Client]:
        """Return the connected clients."""
        return list(self._clients.values())

    def connect(self) -> Client:
        """Register a new client; it receives nothing but heartbeats until it subscribes."""
        client = Client(id=next(self._client_ids), queue=asyncio.Queue(maxsize=self.queue_size))
        self._clients[client.id] = client
        return client

    def disconnect(self, client: Client) -> None:
        """Forget a client (idempotent)."""
        self._clients.pop(client.id, None)

    def subscribe(self, client: Client, subscription: Subscription) -> None:
        """Set or change a client's subscription; it gets a snapshot at the next flush."""
        client.subscription = subscription
        # Deltas still queued for the old filters are harmless: the snapshot that follows
        # replaces the client's whole state (and errors queued before must still go out).
        client.sent = {}
        client.needs_snapshot = True

    def send_error(
        self, client: Client, message: str, *, code: str | None = None, field: str | None = None
    ) -> None:
        """Queue an error for one client (a bad subscribe); it goes out in order with the rest."""
        self._enqueue(client, error_text(message, code=code, field=field))
        self.stats.errors_sent += 1

    # --- fan-out ----------------------------------------------------------------------

    def flush(self) -> int:
        """Send each affected client one snapshot or delta; return how many were queued.

        A flush that carries traced events is a span ("websocket push") linked to the
        spans that consumed them: the last hop of a title's trace, from scrape to browser.
        """
        if not self._trace_links:
            return self._flush()
        links, self._trace_links = [Link(c) for c in self._trace_links], []
        with _tracer.start_as_current_span("trends.scored websocket push", links=links) as span:
            queued = self._flush()
            span.set_attribute("trending.ws.messages_queued", queued)
            span.set_attribute("trending.ws.clients", len(self._clients))
            return queued

    def _flush(self) -> int:
        if not self._dirty and not any(c.needs_snapshot for c in self._clients.values()):
            return 0
        batch = _Flush(self, self._next_seq(), self._now_text())
        queued = 0
        for client in self._clients.values():
            sub = client.subscription
            if sub is None:
                continue
            if client.queue.full():
                self._drop_backlog(client)
            if not client.needs_snapshot and sub.window not in self._dirty:
                continue
            _, sent = batch.view(sub)
            if client.needs_snapshot:
                text: str | None = batch.snapshot(sub)
                client.needs_snapshot = False
                self.stats.snapshots_sent += 1
            else:
                text = batch.delta(sub, client.sent)
                if text is not None:
                    self.stats.deltas_sent += 1
            # Clients of one subscription share one (never mutated) "sent" map, so the
            # next flush diffs once per group of clients, not once per client.
            client.sent = sent
            if text is None:
                continue
            client.last_seq = batch.seq
            self._put(client, text)
            queued += 1
        self._dirty.clear()
        return queued

    def heartbeat(self) -> None:
        """Queue a heartbeat for every client (lets clients detect a dead connection)."""
        seq = self._next_seq()
        text = json.dumps({"type": "heartbeat", "seq": seq, "at": self._now_text()})
        for client in self._clients.values():
            client.last_seq = seq
            self._enqueue(client, text)

    async def run(self) -> None:
        """Flush every ``flush_interval`` and send heartbeats, until cancelled."""
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + self.heartbeat_interval
        next_flush = loop.time()
        while True:
            # Flush on a fixed beat, not "interval after the last flush ended": with a
            # thousand clients the sends take a while, and the pace must not drift.
            next_flush = max(next_flush + self.flush_interval, loop.time())
            await asyncio.sleep(next_flush - loop.time())
            try:
                self.flush()
                if loop.time() >= next_heartbeat:
                    self.heartbeat()
                    next_heartbeat = loop.time() + self.heartbeat_interval
            except Exception:
                # A bug in one flush must not stop every later one.
                log.exception("trend hub flush failed")

    def start(self) -> asyncio.Task[None]:
        """Start :meth:`run` as a background task (call :meth:`stop` at shutdown)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="trend-hub-flush")
        return self._task

    async def stop(self) -> None:
        """Stop the background flush task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- internals --------------------------------------------------------------------

    def _next_seq(self) -> int:
        # One counter for the whole hub, so every message a client sees has a larger seq
        # than the one before, and clients sharing a flush can share its encoded text.
        self._seq += 1
        return self._seq

    def _now_text(self) -> str:
        return self._clock().isoformat().replace("+00:00", "Z")

    def _item_text(self, item: TrendScored) -> str:
        key = (item.window, item.title_id)
        cached = self._item_json.get(key)
        if cached is not None and cached[0] is item:
            return cached[1]
        text = item.model_dump_json()
        self._item_json[key] = (item, text)
        self.stats.encodes += 1
        return text

    def _items_text(self, items: Iterable[TrendScored]) -> str:
        return "[" + ",".join(self._item_text(i) for i in items) + "]"

    # ``at`` is when the flush built the message: clients (and bench/api_fanout) can tell
    # how long fan-out and the network took.
    def _snapshot_text(self, seq: int, at: str, window: Window, items: list[TrendScored]) -> str:
        return (
            f'{{"type":"snapshot","seq":{seq},"at":"{at}","window":{json.dumps(window)},'
            f'"items":{self._items_text(items)}}}'
        )

    def _delta_text(
        self, seq: int, at: str, upserts: list[TrendScored], removals: list[str]
    ) -> str:
        return (
            f'{{"type":"delta","seq":{seq},"at":"{at}","upserts":{self._items_text(upserts)},'
            f'"removals":{json.dumps(removals)}}}'
        )

    def _enqueue(self, client: Client, text: str) -> None:
        if client.queue.full():
            self._drop_backlog(client)
        self._put(client, text)

    def _put(self, client: Client, text: str) -> None:
        client.queue.put_nowait(text)
        self.stats.messages_enqueued += 1

    def _drop_backlog(self, client: Client) -> None:
        # The client is not keeping up: its queued deltas are stale anyway. Drop them and
        # send one snapshot instead, which brings it up to date in a single message.
        self._drain(client)
        client.needs_snapshot = client.subscription is not None
        client.dropped_backlogs += 1
        self.stats.backlogs_dropped += 1

    @staticmethod
    def _drain(client: Client) -> None:
        while True:
            try:
                client.queue.get_nowait()
            except asyncio.QueueEmpty:
                return


class _Flush:
    """What one flush computes once and shares: views, diffs and encoded messages."""

    def __init__(self, hub: TrendHub, seq: int, at: str) -> None:
        self.hub = hub
        self.seq = seq
        self.at = at
        self._views: dict[Subscription, tuple[list[TrendScored], dict[str, TrendScored]]] = {}
        self._diffs: dict[tuple[Subscription, int], tuple[dict[str, TrendScored], str | None]] = {}
        self._texts: dict[object, str] = {}

    def view(self, sub: Subscription) -> tuple[list[TrendScored], dict[str, TrendScored]]:
        """Return a subscription's current items, as a ranked list and by title_id."""
        found = self._views.get(sub)
        if found is None:
            items = self.hub._view(sub)
            found = self._views[sub] = (items, {i.title_id: i for i in items})
        return found

    def snapshot(self, sub: Subscription) -> str:
        """Return the encoded snapshot of a subscription's view."""
        items, _ = self.view(sub)
        key = ("snapshot", sub.window, tuple(map(id, items)))
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = self.hub._snapshot_text(self.seq, self.at, sub.window, items)
        return text

    def delta(self, sub: Subscription, sent: dict[str, TrendScored]) -> str | None:
        """Return the encoded delta from ``sent`` to the current view, or None if equal."""
        key = (sub, id(sent))
        cached = self._diffs.get(key)
        # The cache entry holds ``sent`` itself, so its id cannot be reused meanwhile.
        if cached is not None and cached[0] is sent:
            return cached[1]
        items, current = self.view(sub)
        upserts = [i for i in items if _changed(sent.get(i.title_id), i)]
        removals = [tid for tid in sent if tid not in current]
        text = None
        if upserts or removals:
            text_key = ("delta", tuple(map(id, upserts)), tuple(removals))
            text = self._texts.get(text_key)
            if text is None:
                text = self._texts[text_key] = self.hub._delta_text(
                    self.seq, self.at, upserts, removals
                )
        self._diffs[key] = (sent, text)
        return text


def error_text(message: str, *, code: str | None = None, field: str | None = None) -> str:
    """Encode an ``error`` message; ``code`` and ``field`` are left out when unknown."""
    body: dict[str, str] = {"type": "error"}
    if code is not None:
        body["code"] = code
    if field is not None:
        body["field"] = field
    body["message"] = message
    return json.dumps(body)


def _changed(sent: TrendScored | None, current: TrendScored) -> bool:
    # Identity first: the common case (nothing new for this title) costs one comparison.
    return sent is None or (sent is not current and sent != current)
