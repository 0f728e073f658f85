"""Watch live trends from the api's websocket and print each change.

    python examples/ws_client.py [--url ws://127.0.0.1:8000/ws/trends] [--window day]
        [--genre Drama] [--media-type tv] [--source reddit_hot] [--min-score 40] [--limit 10]

The protocol in four lines (README, "Websocket protocol"): send one ``subscribe`` with a
window and filters; the server answers with a ``snapshot`` of the whole view, then
``delta`` messages (upserts by ``title_id`` and removals) at most every ~250 ms, a
``heartbeat`` every 15 s, and an ``error`` naming the field when a request is wrong.
A client keeps the view as a dict and applies each message to it; a new snapshot (after
a re-subscribe, or when the server dropped a backlog we were too slow to read) replaces
the dict whole. Reconnect with backoff (websockets' ``connect`` iterator does) and
subscribe again: the first snapshot brings the view up to date.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HEARTBEAT_S = 15.0  # the server's default; silence for two of them means a dead link


def subscribe_message(args: argparse.Namespace) -> str:
    """Return the ``subscribe`` request for the command-line filters."""
    return json.dumps(
        {
            "type": "subscribe",
            "window": args.window,
            "genres": args.genre,
            "media_types": args.media_type,
            "sources": args.source,
            "min_score": args.min_score,
            "limit": args.limit,
        }
    )


def show(
    view: dict[str, dict[str, Any]], changed: list[dict[str, Any]], removed: list[str]
) -> None:
    """Print what changed, then the view's top five by rank."""
    for item in changed:
        print(f"  ~ #{item['rank']:<3} {item['score']:5.1f}  {item['title']['name']}")
    for title_id in removed:
        print(f"  - {title_id}")
    top = sorted(view.values(), key=lambda i: i["rank"])[:5]
    print("  top:", ", ".join(f"{i['title']['name']} ({i['score']:.0f})" for i in top))


def apply(view: dict[str, dict[str, Any]], message: dict[str, Any]) -> None:
    """Apply one server message to the view (a dict title_id → item) and print it."""
    kind = message["type"]
    if kind == "snapshot":
        view.clear()
        view.update({i["title_id"]: i for i in message["items"]})
        print(f"snapshot seq={message['seq']}: {len(view)} titles in {message['window']}")
        show(view, [], [])
    elif kind == "delta":
        view.update({i["title_id"]: i for i in message["upserts"]})
        for title_id in message["removals"]:
            view.pop(title_id, None)
        print(f"delta seq={message['seq']} at {message['at']}")
        show(view, message["upserts"], message["removals"])
    elif kind == "error":
        # The socket stays open after an error; fix the request and send it again.
        print(f"error ({message.get('code')}, field {message.get('field')}): {message['message']}")


async def watch(args: argparse.Namespace) -> None:
    """Subscribe, print every update; reconnect (with backoff) when the link drops."""
    async for ws in connect(args.url):  # yields a new connection after each drop
        view: dict[str, dict[str, Any]] = {}
        try:
            await ws.send(subscribe_message(args))
            while True:
                text = await asyncio.wait_for(ws.recv(), timeout=2 * HEARTBEAT_S)
                apply(view, json.loads(text))
        except TimeoutError:
            print("no message for two heartbeats; reconnecting")
            await ws.close()
        except ConnectionClosed as closed:
            print(f"connection closed ({closed}); reconnecting")


def main() -> None:
    """Parse the filters and watch until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Print live trends from /ws/trends.")
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/trends")
    parser.add_argument("--window", default="day", choices=["live", "day", "week"])
    parser.add_argument("--genre", action="append", default=[], help="repeat for several")
    parser.add_argument("--media-type", action="append", default=[], choices=["movie", "tv"])
    parser.add_argument("--source", action="append", default=[], help="e.g. tmdb_trending_day")
    parser.add_argument("--min-score", type=float, default=0.0)
    parser.add_argument("--limit", type=int, default=10)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(watch(parser.parse_args()))


if __name__ == "__main__":
    main()
