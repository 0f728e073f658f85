"""Embedded infrastructure for `make run`, the CLI and the tests: Kafka, Postgres, Redis, S3."""

from stack.embedded import (
    DEFAULT_ROOT,
    ENV_VARS,
    Component,
    ComponentStartError,
    MotoS3Server,
    PostgresServer,
    RedisServer,
    Stack,
    StackError,
    StackInUseError,
    StartupCancelledError,
    TansuBroker,
    ensure_database,
    normalise_database_url,
)

__all__ = [
    "DEFAULT_ROOT",
    "ENV_VARS",
    "Component",
    "ComponentStartError",
    "MotoS3Server",
    "PostgresServer",
    "RedisServer",
    "Stack",
    "StackError",
    "StackInUseError",
    "StartupCancelledError",
    "TansuBroker",
    "ensure_database",
    "normalise_database_url",
]
