"""Classifier settings (prefix ``CLASSIFIER_``)."""

from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings


class ClassifierSettings(CommonSettings):
    """Knobs of the classifier; model registry settings arrive with training."""

    model_config = SettingsConfigDict(
        env_prefix="CLASSIFIER_", extra="ignore", populate_by_name=True
    )
