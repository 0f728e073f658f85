"""Classifier settings (prefix ``CLASSIFIER_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings


class ClassifierSettings(CommonSettings):
    """Which model the classifier serves, how it watches the registry, how it batches."""

    model_config = SettingsConfigDict(
        env_prefix="CLASSIFIER_", extra="ignore", populate_by_name=True
    )

    model_name: str = Field(default="genres", description="registry name of the served model")
    poll_s: float = Field(
        default=10.0, gt=0, description="seconds between checks for a newly promoted model"
    )
    shadow: bool = Field(
        default=False,
        description="also run the newest candidate on every batch and record its agreement",
    )
    shadow_version: str | None = Field(
        default=None, description="shadow this version instead of the newest candidate"
    )
    batch_size: int | None = Field(
        default=None, ge=1, description="titles per batch (default: CONSUMER_MAX_RECORDS)"
    )
    batch_wait_ms: int | None = Field(
        default=None, ge=1, description="longest wait to fill a batch (CONSUMER_FETCH_MAX_WAIT_MS)"
    )
    model_cache_dir: Path = Field(
        default=Path(".trending/models"), description="where downloaded model folders are kept"
    )

    def batching(self) -> ClassifierSettings:
        """Return these settings with the classifier's batch knobs applied to the consumer."""
        update: dict[str, int] = {}
        if self.batch_size is not None:
            update["consumer_max_records"] = self.batch_size
        if self.batch_wait_ms is not None:
            update["consumer_fetch_max_wait_ms"] = self.batch_wait_ms
        return self.model_copy(update=update)
