"""The object store interface, its errors, and the key rules every backend enforces."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class ObjectStoreError(Exception):
    """Base of every object store error."""


class ObjectNotFound(ObjectStoreError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under {key!r}")
        self.key = key


class InvalidKey(ObjectStoreError, ValueError):
    """The key is empty, absolute, or would escape the store."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid object key {key!r}: {reason}")
        self.key = key


@runtime_checkable
class ObjectStore(Protocol):
    """Bytes under '/'-separated keys; every backend behaves the same."""

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        """Store ``data`` under ``key``, replacing what was there, and return its URI."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the object's bytes, or raise ObjectNotFound."""
        ...

    async def exists(self, key: str) -> bool:
        """Return whether an object is stored under ``key``."""
        ...

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted keys that start with ``prefix`` (a plain string prefix)."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""
        ...

    def uri(self, key: str) -> str:
        """Return the URI of ``key`` (file:// or s3://)."""
        ...

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


def check_key(key: str) -> str:
    """Return the key if it is a relative '/'-separated path that stays inside the store."""
    _check(key, allow_prefix=False)
    return key


def check_prefix(prefix: str) -> str:
    """Return the prefix if it is empty or could begin a valid key."""
    if prefix:
        _check(prefix, allow_prefix=True)
    return prefix


def _check(key: str, *, allow_prefix: bool) -> None:
    if not key:
        raise InvalidKey(key, "it is empty")
    if key.startswith("/"):
        raise InvalidKey(key, "it is absolute; keys are relative to the store")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(key, "backslashes and NUL are not allowed")
    segments = key.split("/")
    if allow_prefix:
        # "raw/" and "raw/2024-0" are fine prefixes: the last segment may be partial or empty.
        segments = segments[:-1]
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidKey(key, "empty, '.' and '..' path segments are not allowed")
