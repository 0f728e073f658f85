"""The LLM's daily budget: a ledger of spend per UTC day in Postgres, checked before paying.

Spend is recorded per request from the API's ``usage`` (see ``llm.py``). Several enricher
replicas share one ledger; each keeps a running total, re-read from Postgres every few
seconds so that the others' spend counts too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.enricher.domain import Usage
from trendkit.contracts import now_utc
from trendkit.db.database import Database
from trendkit.db.models import LlmUsage


class UsageLedger:
    """Adds each request's tokens and cost to ``llm_usage`` (one row per day and model)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, day: date, usage: Usage) -> None:
        """Add one request to the day's row, atomically (concurrent replicas may add too)."""
        stmt = insert(LlmUsage).values(
            day=day,
            model=usage.model,
            requests=1,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[LlmUsage.day, LlmUsage.model],
            set_={
                "requests": LlmUsage.requests + 1,
                "prompt_tokens": LlmUsage.prompt_tokens + stmt.excluded.prompt_tokens,
                "completion_tokens": LlmUsage.completion_tokens + stmt.excluded.completion_tokens,
                "cost_usd": LlmUsage.cost_usd + stmt.excluded.cost_usd,
                "updated_at": func.now(),
            },
        )
        async with self.db.transaction() as session:
            await session.execute(stmt)

    async def spent(self, day: date) -> float:
        """Return the day's spend in USD over all models."""
        async with self.db.transaction() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(LlmUsage.cost_usd), 0.0)).where(LlmUsage.day == day)
            )
        return float(total or 0.0)


class DailyBudget:
    """Says whether the LLM may still be paid today; records what it costs (a UsageSink)."""

    def __init__(
        self,
        ledger: UsageLedger,
        limit_usd: float,
        *,
        refresh_s: float = 5.0,
        clock: Callable[[], datetime] = now_utc,
        monotonic: Callable[[], float] = time.monotonic,
        on_spent: Callable[[float], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.limit_usd = limit_usd
        self.refresh_s = refresh_s
        self.clock = clock
        self.monotonic = monotonic
        self.on_spent = on_spent  # e.g. a gauge's set
        self._day: date | None = None
        self._spent = 0.0
        self._read_at = -float("inf")

    async def record(self, usage: Usage) -> None:
        """Book one request's cost on today's ledger."""
        await self.ledger.add(self.clock().date(), usage)
        self._spent += usage.cost_usd

    async def spent_today(self) -> float:
        """Return today's spend (all replicas), re-read from Postgres when stale."""
        today = self.clock().date()
        if today != self._day or self.monotonic() - self._read_at >= self.refresh_s:
            self._spent = await self.ledger.spent(today)
            self._day = today
            self._read_at = self.monotonic()
        if self.on_spent is not None:
            self.on_spent(self._spent)
        return self._spent

    async def exhausted(self) -> bool:
        """True when today's spend has reached the limit (a new UTC day starts afresh)."""
        return await self.spent_today() >= self.limit_usd
