"""The drift service's Prometheus gauges, set from each run's report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

VERDICT_VALUES = {None: -1.0, "ok": 0.0, "warn": 1.0, "alert": 2.0}
"""``trending_drift_verdict``: -1 not enough data, 0 ok, 1 warn, 2 alert."""


class DriftMetrics:
    """Gauges of the latest run: PSI and level per feature, verdict, agreement, when it ran."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.psi = Gauge(
            "trending_drift_psi", "Latest PSI per feature", ["feature"], registry=registry
        )
        self.level = Gauge(
            "trending_drift_feature_level",
            "Latest verdict per judged feature: 0 ok, 1 warn, 2 alert (PSI and a test)",
            ["feature"],
            registry=registry,
        )
        self.verdict = Gauge(
            "trending_drift_verdict",
            "Latest overall verdict: -1 not enough data, 0 ok, 1 warn, 2 alert",
            registry=registry,
        )
        self.agreement = Gauge(
            "trending_drift_agreement_rate",
            "Share of recent titles where the model and the LLM share a genre (NaN: none)",
            registry=registry,
        )
        self.last_run = Gauge(
            "trending_drift_last_run_timestamp_seconds",
            "Unix time of the latest completed drift run",
            registry=registry,
        )

    def observe(self, report: Mapping[str, Any], finished_at: float) -> None:
        """Set every gauge from a report; features without a PSI are dropped."""
        # A feature that has gone quiet must not keep its last PSI (and its alert) forever.
        self.psi.clear()
        self.level.clear()
        for feature, result in report["features"].items():
            if result["psi"] is not None:
                self.psi.labels(feature).set(result["psi"])
            if result["level"] is not None:
                self.level.labels(feature).set(VERDICT_VALUES[result["level"]])
        self.verdict.set(VERDICT_VALUES[report["verdict"]])
        rate = report["agreement"]["current"]
        self.agreement.set(float("nan") if rate is None else rate)
        self.last_run.set(finished_at)
