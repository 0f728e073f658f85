"""Settings: one pydantic-settings class per service, on a common base.

Connections are one URL each and read without a prefix (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``REDIS_URL``, ``S3_ENDPOINT_URL``…), so pointing the whole stack at
real infrastructure needs no code change. A service's own knobs carry its prefix
(``SCORER_…``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class CommonSettings(BaseSettings):
    """What every service needs: where the infrastructure is and how topics are laid out."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS")
    )
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/trending",
        validation_alias=_env("DATABASE_URL"),
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias=_env("REDIS_URL"))
    object_store_url: str = Field(
        default="file://.trending/objects",
        validation_alias=_env("OBJECT_STORE_URL"),
        description="file://FOLDER for the local backend, s3://BUCKET[/prefix] for S3",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=_env("S3_ENDPOINT_URL"),
        description="S3-API endpoint (MinIO, moto); unset means AWS",
    )
    topic_prefix: str = Field(
        default="",
        validation_alias=_env("TOPIC_PREFIX"),
        description="prepended to every topic name; tests use it to isolate themselves",
    )
    topic_partitions: int = Field(
        default=2,
        ge=1,
        validation_alias=_env("TOPIC_PARTITIONS"),
        description="partitions of the topics services create: the most consumers a stage "
        "can use; the embedded stack runs one per stage, and every partition costs each "
        "produce, fetch and commit (docker-compose, k8s and Terraform set 6)",
    )
    dlq_max_attempts: int = Field(
        default=3,
        ge=1,
        validation_alias=_env("DLQ_MAX_ATTEMPTS"),
        description="attempts before a failing message goes to the dead-letter topic",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=25,
        ge=1,
        validation_alias=_env("CONSUMER_FETCH_MAX_WAIT_MS"),
        description="Tansu waits out most of this even with data ready; keep it small",
    )
    consumer_session_timeout_ms: int = Field(
        default=6000, validation_alias=_env("CONSUMER_SESSION_TIMEOUT_MS")
    )
    consumer_max_records: int = Field(
        default=500, ge=1, validation_alias=_env("CONSUMER_MAX_RECORDS")
    )
    trace_sample_ratio: float = Field(
        default=0.01,
        ge=0,
        le=1,
        validation_alias=_env("TRACE_SAMPLE_RATIO"),
        description="share of message traces recorded by OpenTelemetry",
    )
    log_level: str = Field(default="INFO", validation_alias=_env("LOG_LEVEL"))
    log_format: Literal["json", "text"] = Field(
        default="json",
        validation_alias=_env("LOG_FORMAT"),
        description="json: one object per line with trace ids; text: for people (trending up)",
    )
    bind_host: str = Field(
        default="127.0.0.1",
        validation_alias=_env("BIND_HOST"),
        description="address HTTP endpoints bind to; 0.0.0.0 in containers",
    )
    metrics_port: int | None = Field(
        default=None,
        validation_alias=_env("METRICS_PORT"),
        description="port of the Prometheus /metrics endpoint of a broker-only service",
    )

    def topic(self, name: str) -> str:
        """Return the physical topic name for a logical one."""
        return f"{self.topic_prefix}{name}"
