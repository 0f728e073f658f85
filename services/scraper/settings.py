"""Scraper settings (prefix ``SCRAPER_``)."""

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.scraper.tmdb.source import ListSpec, source_name
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

    tmdb_api_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TMDB_API_TOKEN", "tmdb_api_token"),
        description="TMDb v4 read-access token (Bearer); the TMDb source needs it",
    )
    tmdb_base_url: str = Field(
        default="https://api.themoviedb.org/3",
        validation_alias=AliasChoices("TMDB_BASE_URL", "tmdb_base_url"),
    )
    tmdb_pages: int = Field(default=1, ge=1, le=20, description="pages per TMDb list")
    tmdb_lists: list[str] = Field(
        default_factory=lambda: [
            "trending/all/day",
            "trending/all/week",
            "popular/movie",
            "popular/tv",
        ],
        description='TMDb lists to read: "trending/all|movie|tv/day|week" or "popular/movie|tv"',
    )
    tmdb_interval_s: float = Field(default=900.0, ge=10, description="seconds between TMDb cycles")
    html_interval_s: float = Field(
        default=3600.0, ge=60, description="seconds between cycles of each chart page"
    )
    html_sources: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'chart pages to scrape, {"parser name": "URL"} as JSON; empty (the default) means'
            " no HTML source: enabling one is the operator's call under that site's terms"
        ),
    )

    @field_validator("tmdb_lists")
    @classmethod
    def _known_lists(cls, value: list[str]) -> list[str]:
        for spec in value:
            source_name(tmdb_list_spec(spec))  # raises ValueError naming a bad one
        return value

    @field_validator("replay_file", mode="before")
    @classmethod
    def _empty_disables_replay(cls, value: object) -> object:
        # An empty env var would otherwise become Path("."), a folder, not "no replay".
        return None if value == "" else value


def tmdb_list_spec(text: str) -> ListSpec:
    """Turn "trending/tv/week" or "popular/movie" into the TMDb source's list spec."""
    parts = text.strip("/").split("/")
    if len(parts) == 3:
        return (parts[0], parts[1], parts[2])
    if len(parts) == 2:
        return (parts[0], parts[1], None)
    raise ValueError(f"not a TMDb list: {text!r} (say trending/all/day or popular/movie)")
