"""A circuit breaker, so a provider that keeps failing is left alone for a while.

While the breaker is open nothing waits on timeouts or retries: callers fall back at once.
After the cooldown one trial call is let through; its result closes or reopens the breaker.
A trial that never reports back (its caller was cancelled) expires after another cooldown,
so the breaker cannot stay stuck half open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Open after ``failures`` consecutive failures; try again after ``cooldown_s``."""

    def __init__(
        self, failures: int, cooldown_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.failures = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """Return closed, open, or half_open (cooled down: a trial call may go)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Say whether a call may go now; in half_open only the first caller gets through."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self._clock()
        if self._trial_at is not None and now - self._trial_at < self.cooldown_s:
            return False  # a trial call is already under way
        self._trial_at = now
        return True

    def record_success(self) -> None:
        """Close the breaker: the provider answers again."""
        self._consecutive = 0
        self._opened_at = None
        self._trial_at = None

    def record_failure(self) -> None:
        """Count a failure; open the breaker at the threshold, or reopen it after a trial."""
        self._consecutive += 1
        if self._opened_at is not None or self._consecutive >= self.failures:
            self._opened_at = self._clock()
            self._trial_at = None
