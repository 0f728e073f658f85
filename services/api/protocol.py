"""Messages a browser sends over ``/ws/trends``, validated before they reach the hub.

A bad message is answered with ``{"type": "error", "code": ..., "field": ..., "message":
...}`` naming the field at fault; the connection stays open so the client can correct
itself. Only abuse closes it (see :class:`MessageRate` and ``ws.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.api.hub import Subscription
from trendkit.contracts import MediaType, Window, describe_validation_error

MAX_LIMIT = 200
"""The default largest ``limit`` (``API_WS_MAX_LIMIT`` changes it for the websocket)."""


class ProtocolError(ValueError):
    """A client message that cannot be accepted; ``str(error)`` is what the client sees."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class Subscribe(BaseModel):
    """Subscribe to one window's ranking, or change filters (may be sent again)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["subscribe"]
    window: Window = "day"
    genres: list[str] = Field(default_factory=list, max_length=50)
    media_types: list[MediaType] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, max_length=50)
    min_score: float = Field(default=0.0, ge=0, le=100)
    limit: int = Field(default=50, ge=1)

    @field_validator("limit")
    @classmethod
    def _within_max_limit(cls, value: int, info: ValidationInfo) -> int:
        # The ceiling is a setting, so it comes in the validation context, not the schema.
        ceiling = (info.context or {}).get("max_limit", MAX_LIMIT)
        if value > ceiling:
            raise PydanticCustomError(
                "less_than_equal", "Input should be less than or equal to {le}", {"le": ceiling}
            )
        return value

    def to_subscription(self) -> Subscription:
        """Return the hub's view of this request."""
        return Subscription(
            window=self.window,
            genres=frozenset(self.genres),
            media_types=frozenset(self.media_types),
            limit=self.limit,
            sources=frozenset(self.sources),
            min_score=self.min_score,
        )


ClientMessage = Subscribe
"""Every message a client may send (one kind so far)."""


def parse_client_message(text: str, *, max_limit: int = MAX_LIMIT) -> ClientMessage:
    """Validate one text frame from a client, or raise :class:`ProtocolError`."""
    try:
        return Subscribe.model_validate_json(text, context={"max_limit": max_limit})
    except ValidationError as error:
        problems = error.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in problems):
            raise ProtocolError("message is not valid JSON", code="not_json") from None
        loc = problems[0]["loc"]
        field = str(loc[0]) if loc else None
        raise ProtocolError(describe_validation_error(error), field=field) from None


class MessageRate:
    """A token bucket: ``burst`` messages at once, then ``per_second`` sustained.

    Every client message costs a token, valid or not, so a flood of garbage costs the
    server no more than a flood of subscribes. ``rejected_in_a_row`` tells a client that
    ignores the errors (abuse, closed with 1008) from one that slipped once.
    """

    def __init__(
        self, burst: int, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.rejected_in_a_row = 0
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def allow(self) -> bool:
        """Take a token if there is one; count a rejection if not."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            self.rejected_in_a_row = 0
            return True
        self.rejected_in_a_row += 1
        return False
