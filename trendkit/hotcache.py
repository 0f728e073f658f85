"""A hot cache of pydantic models in Redis, where any Redis trouble is only a miss.

Redis holds copies of what Postgres (or a remote API) already has: losing it costs speed,
never data (DESIGN.md). So every error here is logged and answered as "not cached".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class RedisModelCache(Generic[M]):
    """Models of one type as JSON under ``{namespace}:{key}``, each for ``ttl_s`` seconds."""

    def __init__(
        self,
        redis_url: str,
        model: type[M],
        *,
        namespace: str,
        ttl_s: int,
        socket_timeout_s: float = 2.0,
    ) -> None:
        self.model = model
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._redis = Redis.from_url(
            redis_url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s
        )

    def redis_key(self, key: str) -> str:
        """Return the full Redis key of one entry."""
        return f"{self.namespace}:{key}"

    async def get_many(self, keys: Iterable[str]) -> dict[str, M]:
        """Return the cached entries among ``keys`` (one round trip); errors are misses."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        try:
            raws = await self._redis.mget([self.redis_key(k) for k in wanted])
        except (RedisError, OSError) as exc:
            log.warning(
                "%s: hot cache unavailable, using the durable store: %s", self.namespace, exc
            )
            return {}
        found: dict[str, M] = {}
        for key, raw in zip(wanted, raws, strict=True):
            if raw is None:
                continue
            try:
                found[key] = self.model.model_validate_json(raw)
            except ValidationError:
                log.warning("%s: ignoring an unreadable entry under %s", self.namespace, key)
        return found

    async def put_many(self, entries: Mapping[str, M]) -> None:
        """Store entries (one round trip); a Redis error only logs a warning."""
        if not entries:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value in entries.items():
                    pipe.set(self.redis_key(key), value.model_dump_json(), ex=self.ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning(
                "%s: hot cache unavailable, not caching %d: %s", self.namespace, len(entries), exc
            )

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
