"""The local-folder object store: the backend `make run` and most tests use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trendkit.objectstore import (
    InvalidKey,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
    get_gzip,
    get_json,
    open_object_store,
    put_gzip,
    put_json,
)


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


async def test_round_trip_returns_the_bytes_and_a_file_uri(store: LocalObjectStore) -> None:
    uri = await store.put("raw/tmdb/2024-05-01/page.html", b"<html>")

    assert await store.get("raw/tmdb/2024-05-01/page.html") == b"<html>"
    assert uri == store.uri("raw/tmdb/2024-05-01/page.html")
    assert uri.startswith("file://")
    assert uri.endswith("/objects/raw/tmdb/2024-05-01/page.html")
    assert await store.exists("raw/tmdb/2024-05-01/page.html")


async def test_a_missing_key_raises_object_not_found(store: LocalObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as caught:
        await store.get("models/none.bin")

    assert caught.value.key == "models/none.bin"
    assert isinstance(caught.value, ObjectStoreError)
    assert not await store.exists("models/none.bin")


async def test_a_folder_is_not_an_object(store: LocalObjectStore) -> None:
    await store.put("a/b/c.txt", b"x")

    assert not await store.exists("a/b")
    with pytest.raises(ObjectNotFound):
        await store.get("a/b")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../outside", "a/../../outside", "a//b", "a/./b", "a/", "a\\b"]
)
async def test_keys_that_could_escape_the_root_are_rejected(
    store: LocalObjectStore, key: str
) -> None:
    with pytest.raises(InvalidKey, match="invalid object key"):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.get(key)


async def test_a_symlink_out_of_the_root_is_rejected(
    store: LocalObjectStore, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    store.root.mkdir(parents=True)
    (store.root / "link").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(InvalidKey, match="outside"):
        await store.put("link/secret", b"x")
    assert not (tmp_path / "elsewhere" / "secret").exists()


async def test_list_filters_by_string_prefix_and_sorts(store: LocalObjectStore) -> None:
    for key in ["raw/b/2.gz", "raw/a/1.gz", "raw/a/10.gz", "models/m.bin", "rawer/x"]:
        await store.put(key, b"x")

    assert await store.list("raw/") == ["raw/a/1.gz", "raw/a/10.gz", "raw/b/2.gz"]
    assert await store.list("raw/a/1") == ["raw/a/1.gz", "raw/a/10.gz"]
    assert await store.list("raw") == ["raw/a/1.gz", "raw/a/10.gz", "raw/b/2.gz", "rawer/x"]
    assert len(await store.list()) == 5
    assert await store.list("nothing/") == []


async def test_list_rejects_an_escaping_prefix(store: LocalObjectStore) -> None:
    with pytest.raises(InvalidKey):
        await store.list("../")


async def test_overwriting_is_idempotent_and_leaves_no_temp_files(
    store: LocalObjectStore,
) -> None:
    await store.put("reports/drift.json", b"old")
    await store.put("reports/drift.json", b"new")
    await store.put("reports/drift.json", b"new")

    assert await store.get("reports/drift.json") == b"new"
    assert await store.list("reports/") == ["reports/drift.json"]
    assert os.listdir(store.root / "reports") == ["drift.json"]


async def test_delete_removes_and_tolerates_a_missing_key(store: LocalObjectStore) -> None:
    await store.put("tmp/x", b"x")

    await store.delete("tmp/x")
    await store.delete("tmp/x")

    assert not await store.exists("tmp/x")


async def test_json_and_gzip_helpers_round_trip_deterministically(
    store: LocalObjectStore,
) -> None:
    await put_json(store, "a.json", {"b": 1, "a": [1, "é"]})
    await put_gzip(store, "page.html.gz", b"<html>" * 100)
    first = await store.get("page.html.gz")
    await put_gzip(store, "page.html.gz", b"<html>" * 100)

    assert await get_json(store, "a.json") == {"a": [1, "é"], "b": 1}
    assert await store.get("a.json") == '{"a":[1,"é"],"b":1}'.encode()
    assert await get_gzip(store, "page.html.gz") == b"<html>" * 100
    assert await store.get("page.html.gz") == first


def test_open_object_store_picks_the_backend_from_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    relative = open_object_store("file://.trending/objects")
    absolute = open_object_store(f"file://{tmp_path}/abs")
    s3 = open_object_store("s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:9")

    assert isinstance(relative, LocalObjectStore)
    assert relative.root == tmp_path / ".trending" / "objects"
    assert isinstance(absolute, LocalObjectStore)
    assert absolute.root == tmp_path / "abs"
    assert isinstance(s3, S3ObjectStore)
    assert s3.uri("k.json") == "s3://bucket/some/prefix/k.json"
    assert isinstance(relative, ObjectStore)
    assert isinstance(s3, ObjectStore)


@pytest.mark.parametrize("url", ["gs://bucket", "/just/a/path", "file://", "s3:///prefix"])
def test_open_object_store_names_a_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="object store") as caught:
        open_object_store(url)

    assert repr(url) in str(caught.value)
