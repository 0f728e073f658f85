"""What the scraper adds to its /metrics: cycles per source and how they ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

OUTCOMES = ("ok", "parse_error", "failed")


@dataclass
class ScrapeMetrics:
    """Cycles by outcome (a parse error means the page layout changed), and their yield."""

    registry: CollectorRegistry
    cycles: Counter = field(init=False)
    observations: Counter = field(init=False)
    last_success: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.cycles = Counter(
            "trending_scrape_cycles",
            "Scrape cycles by source and outcome (ok, parse_error, failed)",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.observations = Counter(
            "trending_scrape_observations",
            "Observations published by source",
            ["source"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "trending_scrape_last_success_seconds",
            "Unix time of the source's last successful cycle",
            ["source"],
            registry=self.registry,
        )

    def declare(self, source: str) -> None:
        """Export a source's series at 0 before its first cycle (so rates exist at once)."""
        for outcome in OUTCOMES:
            self.cycles.labels(source, outcome)
        self.observations.labels(source)
