"""Build the providers the settings ask for: the LLM (with its guards) and the local one.

``auto`` means the LLM when an API key is set and the local MiniLM otherwise; the local
provider is also the LLM's fallback. ``lexicon`` is the keyword baseline: no model at all,
which is what the pipeline benchmark uses so that it measures the pipeline.
"""

from __future__ import annotations

from services.enricher.breaker import CircuitBreaker
from services.enricher.budget import DailyBudget, UsageLedger
from services.enricher.domain import EnrichmentProvider, LexiconEnricher
from services.enricher.metrics import EnricherMetrics
from services.enricher.router import EnrichmentRouter, PaidProvider
from services.enricher.settings import EnricherSettings
from trendkit.db.database import Database


class ProviderConfigError(ValueError):
    """The settings ask for a provider that cannot be built (say which setting is missing)."""


def local_provider(settings: EnricherSettings) -> EnrichmentProvider:
    """Return the provider that needs no network: MiniLM, or the keyword lexicon."""
    if settings.provider == "lexicon" or (wants_llm(settings) and settings.fallback == "lexicon"):
        return LexiconEnricher()
    from services.enricher.local import MiniLMEnricher  # torch loads only when wanted

    return MiniLMEnricher(batch_size=settings.local_batch_size)


def wants_llm(settings: EnricherSettings) -> bool:
    """Whether the settings choose the LLM (``openai``, or ``auto`` with an API key)."""
    if settings.provider == "openai":
        if settings.openai_api_key is None:
            raise ProviderConfigError(
                "ENRICHER_PROVIDER=openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for a "
                "server other than OpenAI's); unset ENRICHER_PROVIDER to use the local model"
            )
        return True
    return settings.provider == "auto" and settings.openai_api_key is not None


def build_router(
    settings: EnricherSettings, db: Database, metrics: EnricherMetrics
) -> EnrichmentRouter:
    """Wire the router: the local provider always, the LLM with budget and breaker if chosen."""
    local = local_provider(settings)
    if not wants_llm(settings):
        return EnrichmentRouter(local, metrics)
    from services.enricher.llm import OpenAIEnricher

    metrics.llm_budget.set(settings.daily_budget_usd)
    budget = DailyBudget(
        UsageLedger(db), settings.daily_budget_usd, on_spent=metrics.llm_spent_today.set
    )
    llm = OpenAIEnricher(settings, metrics=metrics, usage=budget)
    breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s)
    return EnrichmentRouter(
        local,
        metrics,
        llm=PaidProvider(llm, budget, breaker),
        chunk_size=settings.batch_size,
    )
