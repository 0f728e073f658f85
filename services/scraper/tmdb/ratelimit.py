"""An async token bucket: at most ``rate`` requests a second, with bursts up to ``burst``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
_EPSILON = 1e-9


class TokenBucket:
    """Hand out one token per request; wait when the bucket is empty."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else max(1, int(rate_per_s))
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        # One waiter at a time: callers are served in arrival order and none can starve.
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)
        self._updated = now

    async def acquire(self) -> None:
        """Take one token, waiting until one is available."""
        async with self._lock:
            self._refill()
            # The tolerance stops float rounding (0.99999…) from asking for sleeps too short
            # for the clock to register, which would spin forever.
            while self._tokens < 1.0 - _EPSILON:
                await self._sleep((1.0 - self._tokens) / self.rate_per_s)
                self._refill()
            self._tokens = max(0.0, self._tokens - 1.0)
