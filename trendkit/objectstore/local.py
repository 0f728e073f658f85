"""A folder on disk as an object store: the embedded default for `make run` and tests."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

from trendkit.objectstore.base import InvalidKey, ObjectNotFound, check_key, check_prefix

_TEMP_SUFFIX = ".partial"


class LocalObjectStore:
    """Store objects as files under ``root``; writes are atomic, keys cannot escape it."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        check_key(key)
        name = key.rsplit("/", 1)[-1]
        if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
            raise InvalidKey(key, f"names like '.*{_TEMP_SUFFIX}' are reserved for writes")
        path = self.root / key
        # A symlink inside the root could still point outside it.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(key, "it resolves outside the store's root")
        return path

    def uri(self, key: str) -> str:
        """Return the file:// URI of ``key``."""
        return self._path(key).as_uri()

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        """Write ``data`` to ``key`` atomically and return its URI (content_type is unused)."""
        path = self._path(key)
        await asyncio.to_thread(_write_atomically, path, data)
        return path.as_uri()

    async def get(self, key: str) -> bytes:
        """Return the file's bytes, or raise ObjectNotFound."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    async def exists(self, key: str) -> bool:
        """Return whether a file is stored under ``key``."""
        return await asyncio.to_thread(self._path(key).is_file)

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted keys starting with ``prefix``."""
        check_prefix(prefix)
        return await asyncio.to_thread(_list_keys, self.root, prefix)

    async def delete(self, key: str) -> None:
        """Delete the file under ``key`` if there is one."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def close(self) -> None:
        """Do nothing: a folder holds no connections."""


def _list_keys(root: Path, prefix: str) -> list[str]:
    # Only walk the folder the prefix points into, not the whole store.
    folder = root / prefix.rpartition("/")[0]
    if not folder.is_dir():
        return []
    keys = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
                continue
            key = (Path(dirpath) / name).relative_to(root).as_posix()
            if key.startswith(prefix):
                keys.append(key)
    return sorted(keys)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename: readers see the old file or the new, never half.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}")
    try:
        with temp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
