"""Enricher settings (prefix ``ENRICHER_``)."""

from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings


class EnricherSettings(CommonSettings):
    """Knobs of the enricher; the LLM provider's settings arrive with it."""

    model_config = SettingsConfigDict(env_prefix="ENRICHER_", extra="ignore", populate_by_name=True)
