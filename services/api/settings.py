"""Api settings (prefix ``API_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from trendkit.settings import CommonSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


class ApiSettings(CommonSettings):
    """Where the api listens and what it serves."""

    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", populate_by_name=True)

    port: int = Field(default=8000, ge=1, le=65535)
    frontend_dir: Path = REPO_ROOT / "frontend"
    snapshot_limit: int = Field(default=500, ge=1, description="titles per window loaded at start")
