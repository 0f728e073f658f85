"""Enricher settings (prefix ``ENRICHER_``; the OpenAI client's own variables unprefixed)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings

ProviderChoice = Literal["auto", "openai", "local", "lexicon"]
FallbackChoice = Literal["local", "lexicon"]


class Price(BaseModel):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


# Public list prices per 1M tokens (USD) of common small models, as published by their
# vendors in 2025; override with ENRICHER_PRICES for your provider. A model missing from
# the table costs DEFAULT_PRICE, so an unknown model can never be treated as free.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "gpt-4o": Price(input=2.50, output=10.00),
}
DEFAULT_PRICE = Price(input=2.50, output=10.00)


class EnricherSettings(CommonSettings):
    """Which provider enriches titles, and what it may cost."""

    model_config = SettingsConfigDict(env_prefix="ENRICHER_", extra="ignore", populate_by_name=True)

    provider: ProviderChoice = Field(
        default="auto",
        description="auto: the LLM when OPENAI_API_KEY is set, else local MiniLM; "
        "lexicon: the keyword baseline (benchmarks of the pipeline, not of a model)",
    )
    fallback: FallbackChoice = Field(
        default="local",
        description="who enriches when the LLM may not (budget, breaker, errors): "
        "local MiniLM, or the keyword lexicon (no model to load)",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"),
        description="any OpenAI-compatible endpoint (vLLM, Ollama: http://host:11434/v1)",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    model: str = Field(default="gpt-4o-mini", description="the LLM's model name")
    batch_size: int = Field(default=8, ge=1, le=50, description="titles per LLM request")
    concurrency: int = Field(default=4, ge=1, le=64, description="LLM requests in flight")
    request_timeout_s: float = Field(default=30.0, gt=0, description="per LLM request")
    max_retries: int = Field(default=4, ge=0, description="retries on 429/5xx/timeouts")
    max_retry_after_s: float = Field(
        default=60.0, gt=0, description="longest Retry-After honoured; longer counts as failure"
    )
    daily_budget_usd: float = Field(
        default=5.0, ge=0, description="LLM spend per UTC day; past it titles go local"
    )
    prices: dict[str, Price] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES),
        description='USD per 1M tokens, JSON: {"model": {"input": 0.15, "output": 0.6}}',
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="consecutive failed requests that open the breaker"
    )
    breaker_cooldown_s: float = Field(
        default=60.0, gt=0, description="how long the breaker stays open before a trial request"
    )
    cache_ttl_s: int = Field(
        default=7 * 24 * 3600, ge=60, description="lifetime of an answer in the Redis hot cache"
    )
    local_batch_size: int = Field(default=64, ge=1, description="titles per MiniLM forward pass")

    @field_validator("openai_api_key", "openai_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty variable (OPENAI_API_KEY= in a compose file) means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    def price(self, model: str) -> Price:
        """Return the price of a model (the conservative default when it is unknown)."""
        return self.prices.get(model, DEFAULT_PRICE)
