"""The trend hub: state, per-client views, coalesced deltas, slow clients, heartbeats."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.api.hub import Client, Subscription, TrendHub
from services.api.protocol import ProtocolError, parse_client_message
from tests.factories import trend_scored

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def drain(client: Client) -> list[dict[str, Any]]:
    """Return (and remove) every message queued for a client, decoded."""
    out = []
    while not client.queue.empty():
        out.append(json.loads(client.queue.get_nowait()))
    return out


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["title_id"] for i in items]


def subscribed(hub: TrendHub, **kwargs: Any) -> Client:
    client = hub.connect()
    hub.subscribe(client, Subscription(**kwargs))
    return client


def catalogue() -> list[Any]:
    return [
        trend_scored(title_id="tmdb:movie:1", name="Dune", rank=1, score=90, genres=["Sci-Fi"]),
        trend_scored(title_id="tmdb:tv:2", name="Shogun", rank=2, score=80, media_type="tv"),
        trend_scored(title_id="tmdb:movie:3", name="Alien", rank=3, score=70, genres=["Horror"]),
        trend_scored(title_id="tmdb:tv:4", name="Fargo", rank=4, score=60, media_type="tv"),
    ]


def test_first_flush_sends_a_snapshot_sorted_by_rank() -> None:
    hub = TrendHub()
    hub.apply(list(reversed(catalogue())))
    client = subscribed(hub)

    hub.flush()

    [message] = drain(client)
    assert message["type"] == "snapshot"
    assert message["window"] == "day"
    assert ids(message["items"]) == ["tmdb:movie:1", "tmdb:tv:2", "tmdb:movie:3", "tmdb:tv:4"]
    assert message["items"][0]["title"]["name"] == "Dune"
    assert message["items"][0]["explanation"]


def test_changes_arrive_as_one_coalesced_delta() -> None:
    hub = TrendHub()
    hub.apply(catalogue())
    client = subscribed(hub)
    hub.flush()
    drain(client)

    hub.apply([trend_scored(title_id="tmdb:tv:4", name="Fargo", rank=4, score=65, media_type="tv")])
    hub.apply([trend_scored(title_id="tmdb:movie:5", name="Heat", rank=5, score=40)])
    hub.flush()

    [delta] = drain(client)
    assert delta["type"] == "delta"
    assert sorted(ids(delta["upserts"])) == ["tmdb:movie:5", "tmdb:tv:4"]
    assert delta["removals"] == []
    assert next(u for u in delta["upserts"] if u["title_id"] == "tmdb:tv:4")["score"] == 65


def test_nothing_is_sent_when_nothing_changed() -> None:
    hub = TrendHub()
    items = catalogue()
    hub.apply(items)
    client = subscribed(hub)
    hub.flush()
    drain(client)

    assert hub.flush() == 0
    same = items[0].model_copy()  # a redelivered event: equal content, another object
    hub.apply([same])
    hub.flush()

    assert drain(client) == []


def test_a_title_pushed_out_of_the_top_limit_is_removed() -> None:
    hub = TrendHub()
    hub.apply(catalogue())
    client = subscribed(hub, limit=3)
    hub.flush()
    [snapshot] = drain(client)
    assert ids(snapshot["items"]) == ["tmdb:movie:1", "tmdb:tv:2", "tmdb:movie:3"]

    hub.apply([trend_scored(title_id="tmdb:tv:4", name="Fargo", rank=1, score=99, media_type="tv")])
    hub.apply([trend_scored(title_id="tmdb:movie:3", name="Alien", rank=4, score=50)])
    hub.flush()

    [delta] = drain(client)
    assert ids(delta["upserts"]) == ["tmdb:tv:4"]
    assert delta["removals"] == ["tmdb:movie:3"]


def test_filters_by_genre_media_type_and_limit() -> None:
    hub = TrendHub()
    hub.apply(catalogue())
    tv = subscribed(hub, media_types=frozenset({"tv"}))
    horror = subscribed(hub, genres=frozenset({"horror"}))  # case-insensitive
    top_one = subscribed(hub, limit=1)
    hub.flush()

    assert ids(drain(tv)[0]["items"]) == ["tmdb:tv:2", "tmdb:tv:4"]
    assert ids(drain(horror)[0]["items"]) == ["tmdb:movie:3"]
    assert ids(drain(top_one)[0]["items"]) == ["tmdb:movie:1"]

    hub.apply([trend_scored(title_id="tmdb:movie:3", rank=3, score=75, genres=["Horror"])])
    hub.flush()

    assert drain(tv) == []  # a movie changed: nothing for the TV-only client
    assert ids(drain(horror)[0]["upserts"]) == ["tmdb:movie:3"]
    assert drain(top_one) == []


def test_windows_are_separate() -> None:
    hub = TrendHub()
    day = subscribed(hub, window="day")
    week = subscribed(hub, window="week")
    hub.flush()
    drain(day), drain(week)

    hub.apply([trend_scored(title_id="tmdb:movie:9", window="week")])
    hub.flush()

    assert drain(day) == []
    assert ids(drain(week)[0]["upserts"]) == ["tmdb:movie:9"]
    assert hub.title_counts() == {"live": 0, "day": 0, "week": 1}


def test_an_out_of_order_event_is_ignored() -> None:
    hub = TrendHub()
    newer = trend_scored(score=80, observed_at=T0)
    older = trend_scored(score=20, observed_at=T0 - timedelta(minutes=5))
    client = subscribed(hub)
    hub.apply([newer])
    hub.flush()
    drain(client)

    hub.apply([older])
    hub.flush()

    assert drain(client) == []
    assert hub.ranking("day")[0].score == 80
    assert hub.stats.events_out_of_order == 1


def test_an_event_with_the_same_time_replaces_the_held_one() -> None:
    hub = TrendHub()
    hub.apply([trend_scored(score=80, observed_at=T0)])
    hub.apply([trend_scored(score=81, observed_at=T0)])

    assert hub.ranking("day")[0].score == 81


def test_seq_increases_across_snapshot_deltas_and_heartbeats() -> None:
    hub = TrendHub()
    client = subscribed(hub)
    seqs = []
    for score in (10, 20, 30):
        hub.apply([trend_scored(score=score)])
        hub.flush()
        hub.heartbeat()
    for message in drain(client):
        seqs.append(message["seq"])

    assert len(seqs) == 6
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_heartbeat_carries_time_and_reaches_unsubscribed_clients() -> None:
    hub = TrendHub(clock=lambda: T0)
    client = hub.connect()

    hub.heartbeat()

    assert drain(client) == [{"type": "heartbeat", "seq": 1, "at": "2025-01-01T12:00:00Z"}]


def test_a_slow_client_gets_a_fresh_snapshot_and_others_are_unaffected() -> None:
    hub = TrendHub(queue_size=4)
    hub.apply(catalogue())
    slow = subscribed(hub)
    fast = subscribed(hub)
    hub.flush()
    drain(fast)

    for score in range(30, 60):  # many updates; the slow client never reads
        hub.apply([trend_scored(title_id="tmdb:movie:3", name="Alien", rank=3, score=score)])
        hub.flush()
        fast_messages = drain(fast)
        assert [m["type"] for m in fast_messages] == ["delta"]
        assert fast_messages[0]["upserts"][0]["score"] == score
        assert slow.queue.qsize() <= 4

    slow_messages = drain(slow)
    assert slow_messages[0]["type"] == "snapshot"  # backlog dropped, fresh state first
    assert slow.dropped_backlogs > 0
    # Whatever it reads, the slow client ends up with the latest state.
    state: dict[str, Any] = {}
    for message in slow_messages:
        if message["type"] == "snapshot":
            state = {i["title_id"]: i for i in message["items"]}
        else:
            state.update({i["title_id"]: i for i in message["upserts"]})
    assert state["tmdb:movie:3"]["score"] == 59


def test_identical_messages_are_encoded_once_and_shared() -> None:
    hub = TrendHub()
    hub.apply(catalogue())
    clients = [subscribed(hub) for _ in range(50)]
    hub.flush()
    snapshots = [c.queue.get_nowait() for c in clients]
    encodes_after_snapshot = hub.stats.encodes

    hub.apply([trend_scored(title_id="tmdb:movie:1", name="Dune", rank=1, score=95)])
    hub.flush()
    deltas = [c.queue.get_nowait() for c in clients]

    assert all(s is snapshots[0] for s in snapshots)
    assert all(d is deltas[0] for d in deltas)
    assert encodes_after_snapshot == 4  # each item encoded once for 50 clients
    assert hub.stats.encodes == 5


def test_resubscribing_sends_a_snapshot_of_the_new_view() -> None:
    hub = TrendHub()
    hub.apply(catalogue())
    client = subscribed(hub)
    hub.flush()
    drain(client)

    hub.subscribe(client, Subscription(media_types=frozenset({"movie"})))
    hub.flush()

    [snapshot] = drain(client)
    assert snapshot["type"] == "snapshot"
    assert ids(snapshot["items"]) == ["tmdb:movie:1", "tmdb:movie:3"]


def test_load_snapshot_seeds_the_rankings() -> None:
    hub = TrendHub()
    hub.load_snapshot(iter(catalogue()))

    assert [i.title_id for i in hub.ranking("day", media_types=["movie"])] == [
        "tmdb:movie:1",
        "tmdb:movie:3",
    ]


def test_rankings_are_bounded() -> None:
    hub = TrendHub(max_titles_per_window=10)
    hub.apply([trend_scored(title_id=f"tmdb:movie:{n}", rank=n) for n in range(1, 31)])

    assert hub.title_counts()["day"] == 10
    assert hub.ranking("day", limit=200)[-1].rank == 10


def test_disconnected_clients_get_nothing() -> None:
    hub = TrendHub()
    client = subscribed(hub)
    hub.disconnect(client)
    hub.disconnect(client)

    hub.apply(catalogue())
    hub.flush()
    hub.heartbeat()

    assert drain(client) == []
    assert hub.clients == []


def test_errors_reach_the_client() -> None:
    hub = TrendHub()
    client = hub.connect()

    hub.send_error(client, "window: Input should be 'live', 'day' or 'week'")

    assert drain(client) == [
        {"type": "error", "message": "window: Input should be 'live', 'day' or 'week'"}
    ]


async def test_the_flush_loop_delivers_without_being_asked() -> None:
    hub = TrendHub(flush_interval=0.01, heartbeat_interval=0.02)
    client = subscribed(hub)
    hub.start()
    try:
        hub.apply(catalogue())
        received: set[str] = set()
        while not {"snapshot", "heartbeat"} <= received:
            received.add(json.loads(await asyncio.wait_for(client.queue.get(), 2))["type"])
    finally:
        await hub.stop()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"type": "subscribe", "window": "month"}', "window"),
        ('{"type": "subscribe", "media_types": ["film"]}', "media_types"),
        ('{"type": "subscribe", "limit": 500}', "limit"),
        ('{"type": "subscribe", "genre": ["Drama"]}', "genre"),
        ('{"type": "hello"}', "type"),
    ],
)
def test_bad_client_messages_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ProtocolError, match=field):
        parse_client_message(text)


def test_a_good_subscribe_becomes_a_subscription() -> None:
    message = parse_client_message(
        '{"type":"subscribe","window":"week","genres":["Drama"],"media_types":["tv"],"limit":5}'
    )

    assert message.to_subscription() == Subscription(
        window="week", genres=frozenset({"drama"}), media_types=frozenset({"tv"}), limit=5
    )


def test_not_json_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="JSON"):
        parse_client_message("subscribe please")
