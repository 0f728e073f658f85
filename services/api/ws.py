"""The websocket ``/ws/trends``: subscribe, then a snapshot, coalesced deltas, heartbeats.

The protocol is in DESIGN.md and the README; the fan-out (bounded queue per client, stale
deltas dropped for a fresh snapshot) is the :class:`~services.api.hub.TrendHub`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from services.api.hub import Client, TrendHub
from services.api.protocol import ProtocolError, parse_client_message
from services.api.settings import ApiSettings

log = logging.getLogger(__name__)


def build_ws_router(hub: TrendHub, settings: ApiSettings) -> APIRouter:
    """Return the websocket route, fanning out from ``hub``."""
    router = APIRouter()

    @router.websocket("/ws/trends")
    async def trends_socket(websocket: WebSocket) -> None:
        """Stream snapshot/delta/heartbeat messages for the client's subscription."""
        await websocket.accept()
        client = hub.connect()
        reader = asyncio.create_task(_read_messages(websocket, hub, client))
        writer = asyncio.create_task(_write_messages(websocket, client))
        try:
            # Whichever side ends first (client went away, send failed) ends both.
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hub.disconnect(client)
            for task in (reader, writer):
                task.cancel()
            for task in (reader, writer):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task

    return router


async def _read_messages(websocket: WebSocket, hub: TrendHub, client: Client) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            hub.send_error(client, "send JSON as text frames, not binary")
            continue
        try:
            request = parse_client_message(text)
        except ProtocolError as error:
            hub.send_error(client, str(error))
            continue
        hub.subscribe(client, request.to_subscription())


async def _write_messages(websocket: WebSocket, client: Client) -> None:
    try:
        while True:
            await websocket.send_text(await client.queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError) as error:
        # The peer went away mid-send; the reader notices too. Nothing to report upwards.
        log.debug("websocket client %s: send failed: %r", client.id, error)
