"""Prometheus view of the websocket hub, read from its counters at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.api.hub import TrendHub


class HubCollector(Collector):
    """Expose clients, messages and forced snapshots without touching the hot path."""

    def __init__(self, hub: TrendHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Yield the hub's figures as metric families."""
        stats = self.hub.stats
        yield GaugeMetricFamily(
            "trending_ws_clients", "Connected websocket clients", value=len(self.hub.clients)
        )
        titles = GaugeMetricFamily(
            "trending_ws_titles", "Titles held per window", labels=["window"]
        )
        for window, count in self.hub.title_counts().items():
            titles.add_metric([window], count)
        yield titles
        yield CounterMetricFamily(
            "trending_ws_snapshots_forced",
            "Slow clients whose backlog was dropped and who were sent a fresh snapshot",
            value=stats.backlogs_dropped,
        )
        yield CounterMetricFamily(
            "trending_ws_messages_enqueued",
            "Messages queued to clients",
            value=stats.messages_enqueued,
        )
        yield CounterMetricFamily(
            "trending_ws_errors_sent",
            "Client messages answered with an error (bad field, binary frame, over the rate)",
            value=stats.errors_sent,
        )
        refusals = CounterMetricFamily(
            "trending_ws_refusals",
            "Connections the server closed: too_big (1009), rate_limited or "
            "too_many_connections (1008)",
            labels=["reason"],
        )
        for kind, count in sorted(stats.refusals.items()):
            refusals.add_metric([kind], count)
        yield refusals
        yield CounterMetricFamily(
            "trending_ws_events_applied",
            "Scored events taken into the rankings",
            value=stats.events_applied,
        )
