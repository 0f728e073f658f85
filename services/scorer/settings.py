"""Scorer settings (prefix ``SCORER_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.scorer.engine import ClockPolicy
from services.scorer.scoring import ScoringParams
from trendkit.settings import CommonSettings


class ScorerSettings(CommonSettings):
    """Knobs of the trend score and of event time (docs/scorer.md)."""

    model_config = SettingsConfigDict(env_prefix="SCORER_", extra="ignore", populate_by_name=True)

    rank_scale: float = Field(
        default=5.0,
        gt=0,
        description="k in points = 1 / (1 + (rank - 1) / k): #k+1 earns half of #1",
    )
    min_score_change: float = Field(
        default=1.0, ge=0, description="publish when the score (0-100) moved this much"
    )
    min_rank_change: int = Field(default=2, ge=1, description="publish when moved this many ranks")
    rank_change_share: float = Field(
        default=0.1, ge=0, description="…or by this share of its rank, if more (#300: 30 places)"
    )
    publish_top_n: int = Field(default=50, ge=1, description="entering/leaving it is news")
    agreement_bonus: float = Field(default=0.15, ge=0)
    velocity_weight: float = Field(default=0.5, ge=0)
    hype_weight: float = Field(default=0.1, ge=0)
    source_weights: dict[str, float] = Field(
        default_factory=dict, description='JSON, e.g. {"tmdb_trending": 1.5}; others weigh 1'
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description="divide half-lives and horizons by this; set to the replay speed in demos",
    )
    lateness_s: float = Field(
        default=30.0,
        ge=0,
        description="event-time disorder allowed within a partition; later arrivals are late",
    )
    pause_s: float = Field(
        default=3.0,
        gt=0,
        description="when no partition delivered anything this long, release what waits",
    )
    tick_s: float = Field(default=0.5, gt=0, description="how often idle work is checked")
    batch_size: int = Field(
        default=2000,
        ge=1,
        description="most titles per consumed batch (the scorer's CONSUMER_MAX_RECORDS)",
    )
    wall_clock_ticks: bool = Field(
        default=True, description="let event time follow the wall clock when sources are quiet"
    )

    def batching(self) -> ScorerSettings:
        """Return these settings with the scorer's batch size applied to the consumer.

        Larger than the other stages': each batch pays one transaction over three tables
        and one publication, and the scorer is the stage that keeps a flood waiting.
        Draining 20,000 titles alone on Tansu and Postgres (2 cores): ~2,300 titles/s in
        batches of 500 or 1,000, ~2,800 in batches of 2,000 or 4,000.
        """
        return self.model_copy(update={"consumer_max_records": self.batch_size})

    def scoring_params(self) -> ScoringParams:
        """Return the formula's parameters."""
        return ScoringParams(
            rank_scale=self.rank_scale,
            source_weights=dict(self.source_weights),
            min_score_change=self.min_score_change,
            min_rank_change=self.min_rank_change,
            rank_change_share=self.rank_change_share,
            publish_top_n=self.publish_top_n,
            agreement_bonus=self.agreement_bonus,
            velocity_weight=self.velocity_weight,
            hype_weight=self.hype_weight,
        ).time_scaled(self.time_scale)

    def clock_policy(self) -> ClockPolicy:
        """Return how event time is kept."""
        return ClockPolicy(
            lateness=timedelta(seconds=self.lateness_s),
            idle_s=self.pause_s,
            wall_clock_ticks=self.wall_clock_ticks,
            partitions=tuple(range(self.topic_partitions)),
        )
