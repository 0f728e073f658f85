"""The websocket ``/ws/trends``: subscribe, then a snapshot, coalesced deltas, heartbeats.

The protocol is in the README (and DESIGN.md); the fan-out (bounded queue per client,
stale deltas dropped for a fresh snapshot) is the :class:`~services.api.hub.TrendHub`'s.
This module guards the door: message size, message rate and connections per address,
each an ``API_WS_…`` setting. A mistake gets an ``error`` and the socket stays open;
abuse gets an ``error`` and a close (1009 too big, 1008 policy) whose reason says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import Message

from services.api.hub import Client, TrendHub, error_text
from services.api.protocol import MessageRate, ProtocolError, parse_client_message
from services.api.settings import ApiSettings

log = logging.getLogger(__name__)

CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the server ends a connection: the close code, the error code, the reason."""

    close_code: int
    kind: str
    reason: str


class ConnectionsPerAddress:
    """Count open sockets per client address, so one host cannot take every slot.

    Behind a proxy the address is the one uvicorn derives from X-Forwarded-For (for the
    proxies it trusts, ``--forwarded-allow-ips``), not the proxy's own.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, address: str) -> bool:
        """Count one more socket from ``address``, unless it already has ``limit``."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        """Count one socket from ``address`` fewer."""
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


def build_ws_router(hub: TrendHub, settings: ApiSettings) -> APIRouter:
    """Return the websocket route, fanning out from ``hub`` within ``settings``' limits."""
    router = APIRouter()
    connections = ConnectionsPerAddress(settings.ws_max_connections_per_ip)

    @router.websocket("/ws/trends")
    async def trends_socket(websocket: WebSocket) -> None:
        """Stream snapshot/delta/heartbeat messages for the client's subscription."""
        # Accept before refusing: a browser sees a close code and reason, never an HTTP 403.
        await websocket.accept()
        address = websocket.client.host if websocket.client else "unknown"
        if not connections.acquire(address):
            limit = connections.limit
            reason = f"too many connections from this address (max {limit})"
            refusal = Refusal(CLOSE_POLICY_VIOLATION, "too_many_connections", reason)
            await _close(websocket, hub, refusal)
            return
        try:
            await _serve(websocket, hub, settings)
        finally:
            connections.release(address)

    return router


async def _serve(websocket: WebSocket, hub: TrendHub, settings: ApiSettings) -> None:
    client = hub.connect()
    reader = asyncio.create_task(_read_messages(websocket, hub, client, settings))
    writer = asyncio.create_task(_write_messages(websocket, client))
    refusal: Refusal | None = None
    try:
        # Whichever side ends first (client went away, send failed, abuse) ends both.
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done() and not reader.cancelled() and reader.exception() is None:
            refusal = reader.result()
    finally:
        hub.disconnect(client)
        for task in (reader, writer):
            task.cancel()
        for task in (reader, writer):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task
    if refusal is not None:
        await _close(websocket, hub, refusal)


async def _read_messages(
    websocket: WebSocket, hub: TrendHub, client: Client, settings: ApiSettings
) -> Refusal | None:
    """Handle client messages until the client leaves (None) or must be refused."""
    rate = MessageRate(settings.ws_messages_burst, settings.ws_messages_per_s)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        refusal = _handle(message, hub, client, rate, settings)
        if refusal is not None:
            return refusal


def _handle(
    message: Message, hub: TrendHub, client: Client, rate: MessageRate, settings: ApiSettings
) -> Refusal | None:
    """Check one frame's size and rate, then apply it; return a Refusal to end the socket."""
    text: str | None = message.get("text")
    size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
    if size > settings.ws_max_message_bytes:
        reason = f"message too big: {size} bytes (max {settings.ws_max_message_bytes})"
        return Refusal(CLOSE_MESSAGE_TOO_BIG, "too_big", reason)
    if not rate.allow():
        return _rate_limited(hub, client, rate, settings)
    if text is None:
        hub.send_error(client, "send JSON as text frames, not binary", code="binary_frame")
        return None
    try:
        request = parse_client_message(text, max_limit=settings.ws_max_limit)
    except ProtocolError as error:
        hub.send_error(client, str(error), code=error.code, field=error.field)
        return None
    hub.subscribe(client, request.to_subscription())
    return None


def _rate_limited(
    hub: TrendHub, client: Client, rate: MessageRate, settings: ApiSettings
) -> Refusal | None:
    """Answer a message over the rate: an error, or a close once the client ignores them."""
    if rate.rejected_in_a_row >= settings.ws_rejections_before_close:
        reason = f"too many messages ({rate.rejected_in_a_row} over the rate in a row)"
        return Refusal(CLOSE_POLICY_VIOLATION, "rate_limited", reason)
    hub.send_error(
        client,
        f"too many messages: {rate.burst} at once, then {rate.per_second:g}/s; "
        "this one was ignored",
        code="rate_limited",
    )
    return None


async def _close(websocket: WebSocket, hub: TrendHub, refusal: Refusal) -> None:
    """Send the refusal as an error, then close with its code and reason (peer may be gone)."""
    log.info("websocket refused (%s): %s", refusal.kind, refusal.reason)
    hub.stats.refused(refusal.kind)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(error_text(refusal.reason, code=refusal.kind))
        await websocket.close(code=refusal.close_code, reason=refusal.reason)


async def _write_messages(websocket: WebSocket, client: Client) -> None:
    try:
        while True:
            await websocket.send_text(await client.queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError) as error:
        # The peer went away mid-send; the reader notices too. Nothing to report upwards.
        log.debug("websocket client %s: send failed: %r", client.id, error)
