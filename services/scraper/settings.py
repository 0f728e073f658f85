"""Scraper settings (prefix ``SCRAPER_``)."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings

DEMO_TIMELINE = Path(__file__).resolve().parent / "demo" / "demo_timeline.jsonl"


class ScraperSettings(CommonSettings):
    """Which sources run and how; the replay source plays the demo timeline by default."""

    model_config = SettingsConfigDict(env_prefix="SCRAPER_", extra="ignore", populate_by_name=True)

    replay_file: Path | None = Field(
        default=DEMO_TIMELINE, description="timeline to play (JSON lines); empty disables replay"
    )
    replay_speed: float = Field(
        default=720.0, gt=0, description="timeline seconds per real second (720: 2 h in 10 s)"
    )
    replay_loop: bool = Field(default=True, description="start over at the end, time moving on")

    @field_validator("replay_file", mode="before")
    @classmethod
    def _empty_disables_replay(cls, value: object) -> object:
        # An empty env var would otherwise become Path("."), a folder, not "no replay".
        return None if value == "" else value
