"""Drift settings (prefix ``DRIFT_``)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.drift.statistics import Thresholds
from trendkit.settings import CommonSettings


class DriftSettings(CommonSettings):
    """How often drift runs, over what window, against what, and where drift starts."""

    model_config = SettingsConfigDict(env_prefix="DRIFT_", extra="ignore", populate_by_name=True)

    interval_minutes: float = Field(default=60.0, gt=0, description="time between runs")
    window_hours: float = Field(default=24.0, gt=0, description="the current window")
    psi_warn: float = Field(default=0.1, gt=0)
    psi_alert: float = Field(default=0.25, gt=0)
    alpha: float = Field(default=0.01, gt=0, lt=1, description="a test's significance level")
    min_samples: int = Field(default=50, ge=1, description="fewer than this: no verdict")
    bucket: Literal["hour", "day"] = Field(
        default="hour", description="time buckets of the agreement and genre series"
    )
    model_name: str = Field(default="genres", description="registry name of the model")

    @property
    def thresholds(self) -> Thresholds:
        """Return the verdict's thresholds."""
        return Thresholds(
            psi_warn=self.psi_warn,
            psi_alert=self.psi_alert,
            alpha=self.alpha,
            min_samples=self.min_samples,
        )
