"""Who enriches a batch: the LLM while affordable and healthy, else the local provider."""

from __future__ import annotations

from collections.abc import Sequence

from services.enricher.breaker import CircuitBreaker
from services.enricher.domain import EnrichmentFailure, LexiconEnricher, ProviderUnavailable
from services.enricher.metrics import EnricherMetrics
from services.enricher.router import EnrichmentRouter, PaidProvider
from tests.factories import title_observed
from trendkit.contracts import Enrichment, Provenance, TitleObserved


class ScriptedLlm:
    """An LLM that fails the requests listed in ``fail`` (by call number) and answers others."""

    provider = "openai"
    model = "m"
    version = "p1"

    def __init__(self, fail: Sequence[int] = ()) -> None:
        self.fail = set(fail)
        self.calls: list[list[str]] = []

    async def enrich(self, titles: Sequence[TitleObserved]) -> list[Enrichment | EnrichmentFailure]:
        self.calls.append([t.title.name for t in titles])
        if len(self.calls) in self.fail:
            raise ProviderUnavailable("HTTP 500 after retries")
        provenance = Provenance(provider=self.provider, model=self.model, version=self.version)
        return [
            Enrichment(summary=t.title.name, hype_score=50, provenance=provenance) for t in titles
        ]


class Budget:
    def __init__(self, exhausted: bool = False) -> None:
        self.is_exhausted = exhausted

    async def exhausted(self) -> bool:
        return self.is_exhausted


def titles(n: int) -> list[TitleObserved]:
    return [title_observed(name=f"T{i}") for i in range(n)]


def fallbacks(metrics: EnricherMetrics, reason: str) -> float:
    sample = metrics.registry.get_sample_value(
        "trending_enrich_fallbacks_total", {"reason": reason}
    )
    return sample or 0.0


def router(llm: ScriptedLlm, budget: Budget, breaker: CircuitBreaker) -> EnrichmentRouter:
    return EnrichmentRouter(
        LexiconEnricher(), EnricherMetrics(), llm=PaidProvider(llm, budget, breaker), chunk_size=8
    )


async def test_one_failed_request_sends_only_its_titles_to_the_local_provider() -> None:
    llm = ScriptedLlm(fail=[2])
    r = router(llm, Budget(), CircuitBreaker(5, 60))
    results = await r.enrich(titles(20))
    providers = [x.provenance.provider for x in results if isinstance(x, Enrichment)]
    assert [len(c) for c in llm.calls] == [8, 8, 4]
    assert providers == ["openai"] * 8 + ["local"] * 8 + ["openai"] * 4
    assert fallbacks(r.metrics, "error") == 8


async def test_an_exhausted_budget_sends_everything_local_without_a_request() -> None:
    llm = ScriptedLlm()
    r = router(llm, Budget(exhausted=True), CircuitBreaker(5, 60))
    results = await r.enrich(titles(3))
    assert llm.calls == []
    assert {x.provenance.provider for x in results if isinstance(x, Enrichment)} == {"local"}
    assert fallbacks(r.metrics, "budget") == 3


async def test_an_open_breaker_is_not_called_until_its_cooldown_passes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(2, 30, clock=lambda: now[0])
    llm = ScriptedLlm(fail=[1, 2])
    r = router(llm, Budget(), breaker)
    for _ in range(3):
        await r.enrich(titles(1))
    assert len(llm.calls) == 2
    assert fallbacks(r.metrics, "breaker") == 1
    now[0] = 31.0
    [trial] = await r.enrich(titles(1))
    assert isinstance(trial, Enrichment)
    assert trial.provenance.provider == "openai"
    assert breaker.state == "closed"


async def test_the_cache_is_asked_for_the_llms_answers_first() -> None:
    r = router(ScriptedLlm(), Budget(), CircuitBreaker(5, 60))
    assert (r.preferred.provider, r.preferred.version) == ("openai", "p1")
    local_only = EnrichmentRouter(LexiconEnricher(), EnricherMetrics())
    assert local_only.preferred.provider == "local"


def test_only_answers_that_cost_something_are_worth_caching() -> None:
    r = router(ScriptedLlm(), Budget(), CircuitBreaker(5, 60))
    lexicon = EnrichmentRouter(LexiconEnricher(), EnricherMetrics())
    assert r.worth_caching(r.preferred)  # the LLM's answers are paid for
    assert not r.worth_caching(lexicon.preferred)  # the lexicon answers in microseconds
    assert not lexicon.worth_caching(lexicon.preferred)
