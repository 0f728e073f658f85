"""Object store: raw pages, Parquet, datasets, model artifacts and reports, by key.

One async interface (:class:`ObjectStore`), two backends: a local folder (the embedded
default) and any S3-API endpoint. Keys are '/'-separated relative paths; choosing them
deterministically, so that re-runs overwrite rather than duplicate, is the caller's job.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

from trendkit.objectstore.base import (
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    check_key,
    check_prefix,
)
from trendkit.objectstore.local import LocalObjectStore
from trendkit.objectstore.s3 import S3ObjectStore

__all__ = [
    "InvalidKey",
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectStore",
    "check_key",
    "check_prefix",
    "get_gzip",
    "get_json",
    "open_object_store",
    "put_gzip",
    "put_json",
]


def open_object_store(url: str, *, endpoint_url: str | None = None) -> ObjectStore:
    """Open the store a URL names: ``file://FOLDER`` (relative allowed) or ``s3://BUCKET/PREFIX``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"object store URL needs a scheme (file:// or s3://): {url!r}")
    if scheme == "file":
        # file:///abs/path is absolute; file://relative/path is relative to the working folder.
        if not rest:
            raise ValueError(f"object store URL names no folder: {url!r}")
        return LocalObjectStore(Path(rest))
    if scheme == "s3":
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ValueError(f"object store URL names no bucket: {url!r}")
        return S3ObjectStore(bucket, prefix, endpoint_url=endpoint_url)
    raise ValueError(f"unknown object store scheme {scheme!r} in {url!r} (use file:// or s3://)")


async def put_json(store: ObjectStore, key: str, value: Any) -> str:
    """Store a JSON document with sorted keys, so equal values give equal bytes."""
    data = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return await store.put(key, data.encode(), content_type="application/json")


async def get_json(store: ObjectStore, key: str) -> Any:
    """Load a JSON document."""
    return json.loads(await store.get(key))


async def put_gzip(
    store: ObjectStore, key: str, data: bytes, *, content_type: str = "application/gzip"
) -> str:
    """Store ``data`` gzip-compressed; mtime=0 keeps the bytes deterministic."""
    return await store.put(key, gzip.compress(data, mtime=0), content_type=content_type)


async def get_gzip(store: ObjectStore, key: str) -> bytes:
    """Load and decompress an object stored with :func:`put_gzip`."""
    return gzip.decompress(await store.get(key))


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


async def put_tree(store: ObjectStore, prefix: str, directory: Path) -> str:
    """Upload every file under ``directory`` to ``prefix/<relative path>``; return its URI."""
    prefix = prefix.rstrip("/")
    # Model folders hold files of tens of MB: file work runs off the event loop.
    for path in await asyncio.to_thread(_files, directory):
        data = await asyncio.to_thread(path.read_bytes)
        await store.put(f"{prefix}/{path.relative_to(directory).as_posix()}", data)
    return store.uri(prefix)


async def get_tree(store: ObjectStore, prefix: str, directory: Path) -> Path:
    """Download every object under ``prefix/`` into ``directory``, keeping relative paths."""
    prefix = prefix.rstrip("/")
    keys = await store.list(f"{prefix}/")
    if not keys:
        raise ObjectNotFound(f"{prefix}/")
    for key in keys:
        await asyncio.to_thread(_write, directory / key[len(prefix) + 1 :], await store.get(key))
    return directory
