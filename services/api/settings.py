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
    # --- websocket /ws/trends: fan-out pace and the limits that protect it -------------
    ws_flush_interval_s: float = Field(
        default=0.25, gt=0, le=10, description="deltas are coalesced and sent this often"
    )
    ws_heartbeat_interval_s: float = Field(
        default=15.0, gt=0, description="a heartbeat this often lets clients spot a dead link"
    )
    ws_queue_size: int = Field(
        default=16, ge=1, description="messages queued per client before its backlog is dropped"
    )
    ws_max_message_bytes: int = Field(
        default=4096, ge=256, description="larger client messages: error, then close 1009"
    )
    ws_max_limit: int = Field(
        default=200, ge=1, le=2000, description="largest `limit` a subscription may ask for"
    )
    ws_messages_burst: int = Field(
        default=10, ge=1, description="client messages (subscribes) accepted back to back"
    )
    ws_messages_per_s: float = Field(
        default=2.0, gt=0, description="sustained client messages per second per connection"
    )
    ws_rejections_before_close: int = Field(
        default=20,
        ge=1,
        description="rate-limited messages in a row before the socket is closed (1008)",
    )
    ws_max_connections_per_ip: int = Field(
        default=50, ge=1, description="more sockets from one address are closed (1008)"
    )
    ws_compression: bool = Field(
        default=False,
        description="offer permessage-deflate (halves bandwidth, doubles fan-out CPU and p99)",
    )

    def websocket_options(self) -> dict[str, object]:
        """Return uvicorn's websocket options for the api (``__main__`` and the bench).

        Deflate compresses the same shared delta again for every client: 40 % of the
        fan-out's CPU and twice its p99 (bench/api_fanout), for small messages. Client
        messages are tiny, so frames past a few times the message limit are refused
        before uvicorn buffers them (its default is 16 MiB).
        """
        return {
            "ws_per_message_deflate": self.ws_compression,
            "ws_max_size": max(64 * 1024, self.ws_max_message_bytes * 4),
        }
