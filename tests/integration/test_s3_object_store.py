"""One behaviour suite, run against both object store backends: S3 (moto) and a local folder.

The S3 side talks real HTTP to moto in server mode, the way MinIO or AWS would be reached.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from trendkit.objectstore import (
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    get_gzip,
    get_json,
    open_object_store,
    put_gzip,
    put_json,
)

pytestmark = pytest.mark.integration


async def test_round_trip(store: ObjectStore) -> None:
    uri = await store.put("raw/tmdb/page.html", b"<html>", content_type="text/html")

    assert await store.get("raw/tmdb/page.html") == b"<html>"
    assert uri == store.uri("raw/tmdb/page.html")
    assert await store.exists("raw/tmdb/page.html")


async def test_missing_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as caught:
        await store.get("nope/none.bin")

    assert caught.value.key == "nope/none.bin"
    assert not await store.exists("nope/none.bin")


async def test_list_by_prefix(store: ObjectStore) -> None:
    for key in ["raw/b/2.gz", "raw/a/1.gz", "raw/a/10.gz", "models/m.bin", "rawer/x"]:
        await store.put(key, b"x")

    assert await store.list("raw/") == ["raw/a/1.gz", "raw/a/10.gz", "raw/b/2.gz"]
    assert await store.list("raw/a/1") == ["raw/a/1.gz", "raw/a/10.gz"]
    assert await store.list("raw") == ["raw/a/1.gz", "raw/a/10.gz", "raw/b/2.gz", "rawer/x"]
    assert len(await store.list()) == 5
    assert await store.list("nothing/") == []


async def test_overwrite_is_idempotent(store: ObjectStore) -> None:
    await store.put("reports/drift.json", b"old")
    await store.put("reports/drift.json", b"new")
    await store.put("reports/drift.json", b"new")

    assert await store.get("reports/drift.json") == b"new"
    assert await store.list("reports/") == ["reports/drift.json"]


async def test_delete(store: ObjectStore) -> None:
    await store.put("tmp/x", b"x")

    await store.delete("tmp/x")
    await store.delete("tmp/x")

    assert not await store.exists("tmp/x")
    assert await store.list("tmp/") == []


async def test_helpers(store: ObjectStore) -> None:
    await put_json(store, "a.json", {"b": 1, "a": [1, "é"]})
    await put_gzip(store, "page.html.gz", b"<html>" * 100)

    assert await get_json(store, "a.json") == {"a": [1, "é"], "b": 1}
    assert await get_gzip(store, "page.html.gz") == b"<html>" * 100


async def test_large_object(store: ObjectStore) -> None:
    data = os.urandom(6 * 1024 * 1024)

    await store.put("datasets/train.parquet", data)

    assert await store.get("datasets/train.parquet") == data


async def test_s3_prefixes_isolate_stores_sharing_a_bucket(s3_endpoint_url: str) -> None:
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    first = open_object_store(f"s3://{bucket}/one", endpoint_url=s3_endpoint_url)
    second = open_object_store(f"s3://{bucket}/two/", endpoint_url=s3_endpoint_url)
    try:
        await first.put("k", b"1")
        await second.put("k", b"2")

        assert await first.get("k") == b"1"
        assert await second.get("k") == b"2"
        assert await first.list() == ["k"]
        assert first.uri("k") == f"s3://{bucket}/one/k"
        assert second.uri("k") == f"s3://{bucket}/two/k"
    finally:
        await first.close()
        await second.close()


async def test_s3_concurrent_first_use_creates_the_bucket_once(s3_endpoint_url: str) -> None:
    store = S3ObjectStore(f"test-{uuid.uuid4().hex[:12]}", endpoint_url=s3_endpoint_url)
    try:
        await asyncio.gather(*(store.put(f"k{i}", b"x") for i in range(10)))

        assert len(await store.list()) == 10
    finally:
        await store.close()
