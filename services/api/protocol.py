"""Messages a browser sends over ``/ws/trends``, validated before they reach the hub.

A bad message is answered with ``{"type": "error", "message": ...}`` naming the field at
fault; the connection stays open so the client can correct itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.api.hub import Subscription
from trendkit.contracts import MediaType, Window, describe_validation_error

MAX_MESSAGE_CHARS = 16_384
MAX_LIMIT = 200


class ProtocolError(ValueError):
    """A client message that cannot be accepted; ``str(error)`` is what the client sees."""


class Subscribe(BaseModel):
    """Subscribe to one window's ranking, or change filters (may be sent again)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["subscribe"]
    window: Window = "day"
    genres: list[str] = Field(default_factory=list, max_length=50)
    media_types: list[MediaType] = Field(default_factory=list)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)

    def to_subscription(self) -> Subscription:
        """Return the hub's view of this request."""
        return Subscription(
            window=self.window,
            genres=frozenset(self.genres),
            media_types=frozenset(self.media_types),
            limit=self.limit,
        )


ClientMessage = Subscribe
"""Every message a client may send (one kind so far)."""


def parse_client_message(text: str) -> ClientMessage:
    """Validate one text frame from a client, or raise :class:`ProtocolError`."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(f"message too long: {len(text)} characters (max {MAX_MESSAGE_CHARS})")
    try:
        return Subscribe.model_validate_json(text)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise ProtocolError("message is not valid JSON") from None
        raise ProtocolError(describe_validation_error(error)) from None
