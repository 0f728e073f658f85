"""The raw archive on both object store backends: deterministic keys, readable Parquet."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.scraper.archive import archive_observations, archive_page
from tests.factories import title_observed
from trendkit.contracts import TitleObserved
from trendkit.objectstore import ObjectStore, get_gzip

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)


async def test_page_is_stored_gzipped_under_its_content_hash(store: ObjectStore) -> None:
    body = b"<html><body>chart</body></html>" * 50

    key = await archive_page(store, source="imdb_chart", fetched_at=T0, body=body)
    again = await archive_page(store, source="imdb_chart", fetched_at=T0, body=body)
    other = await archive_page(
        store, source="tmdb_api", fetched_at=T0 + timedelta(hours=1), body=b"{}", suffix="json"
    )

    assert key == again
    assert key == f"raw/imdb_chart/2025-03-09/{hashlib.sha256(body).hexdigest()[:16]}.html.gz"
    assert other == f"raw/tmdb_api/2025-03-10/{hashlib.sha256(b'{}').hexdigest()[:16]}.json.gz"
    assert await store.list("raw/") == sorted([key, other])
    assert await get_gzip(store, key) == body
    # Same body, same bytes: gzip carries no timestamp.
    assert gzip.compress(body, mtime=0) == await store.get(key)


def cycle() -> list[TitleObserved]:
    return [
        title_observed(
            event_id=f"ev-{source}-{rank}-{day}",
            source=source,
            rank=rank,
            name=f"Title {rank}",
            observed_at=T0 + timedelta(days=day, minutes=rank),
            signals={"rank_change": float(rank)},
        )
        for source in ("imdb_chart", "tmdb_trending_day")
        for day in (0, 1)
        for rank in (3, 1, 2)
    ]


async def test_observations_become_one_parquet_per_source_and_day(store: ObjectStore) -> None:
    observations = cycle()

    keys = await archive_observations(store, observations)
    written = [await store.get(k) for k in keys]
    rerun = await archive_observations(store, list(reversed(observations)))

    assert rerun == keys
    assert [await store.get(k) for k in keys] == written
    assert await store.list("observations/") == sorted(keys)
    assert [k.rsplit("/", 1)[0] for k in keys] == [
        "observations/source=imdb_chart/date=2025-03-09",
        "observations/source=imdb_chart/date=2025-03-10",
        "observations/source=tmdb_trending_day/date=2025-03-09",
        "observations/source=tmdb_trending_day/date=2025-03-10",
    ]
    table = pq.read_table(io.BytesIO(await store.get(keys[0])))
    assert table.schema.field("observed_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("rank").type == pa.int32()
    rows = table.to_pylist()
    expected = sorted(
        (
            o
            for o in observations
            if o.observation.source == "imdb_chart" and o.observed_at.day == 9
        ),
        key=lambda o: o.observation.rank,
    )
    assert [r["event_id"] for r in rows] == [o.event_id for o in expected]
    assert [r["observed_at"] for r in rows] == [o.observed_at for o in expected]
    assert rows[0]["title_id"] == expected[0].title_id
    assert rows[0]["media_type"] == "movie"
    assert rows[0]["year"] == 2025
    assert rows[0]["tmdb_id"] is None
    assert json.loads(rows[0]["signals"]) == {"rank_change": 1.0}


async def test_a_different_batch_for_the_same_day_gets_its_own_file(store: ObjectStore) -> None:
    observations = cycle()

    # Both batches are imdb_chart on 2025-03-09, but hold different events.
    [first] = await archive_observations(store, observations[:2])
    [second] = await archive_observations(store, observations[2:3])

    assert first != second
    assert first.rsplit("/", 1)[0] == second.rsplit("/", 1)[0]
    assert await store.list("observations/") == sorted([first, second])
