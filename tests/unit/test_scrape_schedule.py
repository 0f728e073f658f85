"""The scraper's schedule: failed cycles are retried, and every cycle's outcome is counted."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from services.scraper.metrics import ScrapeMetrics
from services.scraper.parsers.base import LayoutError
from services.scraper.sources import run_scheduled


async def test_each_cycle_outcome_is_counted_and_failures_back_off() -> None:
    outcomes: list[int | Exception] = [
        12,
        LayoutError("imdb_moviemeter", "no chart rows found"),
        RuntimeError("HTTP 503"),
        30,
    ]
    sleeps: list[float] = []

    async def cycle() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if not outcomes:
            raise asyncio.CancelledError

    metrics = ScrapeMetrics(CollectorRegistry())
    with pytest.raises(asyncio.CancelledError):
        await run_scheduled("imdb_moviemeter", 600, cycle, metrics=metrics, sleep=sleep)

    def cycles(outcome: str) -> float | None:
        return metrics.registry.get_sample_value(
            "trending_scrape_cycles_total", {"source": "imdb_moviemeter", "outcome": outcome}
        )

    assert (cycles("ok"), cycles("parse_error"), cycles("failed")) == (2, 1, 1)
    observations = metrics.registry.get_sample_value(
        "trending_scrape_observations_total", {"source": "imdb_moviemeter"}
    )
    assert observations == 42
    assert sleeps == [600, 10.0, 20.0, 600]  # backs off after failures, never past the interval
    last = metrics.registry.get_sample_value(
        "trending_scrape_last_success_seconds", {"source": "imdb_moviemeter"}
    )
    assert last is not None
    assert last > 0
