"""Drift settings (prefix ``DRIFT_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings


class DriftSettings(CommonSettings):
    """How often drift runs and over what window."""

    model_config = SettingsConfigDict(env_prefix="DRIFT_", extra="ignore", populate_by_name=True)

    interval_seconds: float = Field(default=300.0, gt=0)
    window_hours: float = Field(default=24.0, gt=0)
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    min_samples: int = Field(default=50, ge=1, description="fewer than this: no verdict")
