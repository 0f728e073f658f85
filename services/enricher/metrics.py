"""The enricher's Prometheus metrics: what the LLM costs and how often it is avoided."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class EnricherMetrics:
    """One set per process; providers and the router increment them."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    llm_requests: Counter = field(init=False)
    llm_tokens: Counter = field(init=False)
    llm_cost: Counter = field(init=False)
    llm_latency: Histogram = field(init=False)
    llm_budget: Gauge = field(init=False)
    llm_spent_today: Gauge = field(init=False)
    cache_hits: Counter = field(init=False)
    cache_misses: Counter = field(init=False)
    fallbacks: Counter = field(init=False)
    enriched: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.llm_requests = Counter(
            "trending_llm_requests",
            "LLM HTTP requests by outcome (ok, invalid, repaired, rate_limited, server_error, "
            "client_error, timeout, connection_error)",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.llm_tokens = Counter(
            "trending_llm_tokens",
            "Tokens the LLM API reported in usage",
            ["model", "kind"],  # kind: prompt | completion
            registry=self.registry,
        )
        self.llm_cost = Counter(
            "trending_llm_cost_usd",
            "Money spent on the LLM, from usage and the price table",
            ["model"],
            registry=self.registry,
        )
        self.llm_latency = Histogram(
            "trending_llm_request_seconds",
            "Time for one LLM request (one attempt)",
            ["model"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.llm_budget = Gauge(
            "trending_llm_budget_usd",
            "The LLM's daily budget (0: no LLM configured)",
            registry=self.registry,
        )
        self.llm_spent_today = Gauge(
            "trending_llm_spent_today_usd",
            "LLM spend of the current UTC day, all replicas, as last read from the ledger",
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "trending_enrich_cache_hits",
            "Titles whose enrichment came from the cache, by tier (redis, postgres)",
            ["tier"],
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "trending_enrich_cache_misses",
            "Titles that had to be enriched by a provider",
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "trending_enrich_fallbacks",
            "Titles enriched locally instead of by the LLM, by reason (budget, breaker, error)",
            ["reason"],
            registry=self.registry,
        )
        self.enriched = Counter(
            "trending_enrichments",
            "Titles enriched by a provider (cache misses), by provider",
            ["provider"],
            registry=self.registry,
        )
