"""Scorer settings (prefix ``SCORER_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings


class ScorerSettings(CommonSettings):
    """Knobs of the trend score (see services/scorer/scoring.py for the formula)."""

    model_config = SettingsConfigDict(env_prefix="SCORER_", extra="ignore", populate_by_name=True)

    rank_scale: float = Field(
        default=5.0,
        gt=0,
        description="k in points = 1 / (1 + (rank - 1) / k): #k+1 earns half of #1",
    )
    min_score_change: float = Field(default=0.5, ge=0)
    min_rank_change: int = Field(default=2, ge=1)
    publish_top_n: int = Field(default=50, ge=1)
    agreement_bonus: float = Field(default=0.15, ge=0)
    velocity_weight: float = Field(default=0.5, ge=0)
    hype_weight: float = Field(default=0.1, ge=0)
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description="divide half-lives and horizons by this; set to the replay speed in demos",
    )
