"""The raw archive: every fetched body gzip'd, every observation batch as Parquet.

Keys are derived from content (page bodies) or from the batch's event ids (Parquet), so
re-running a cycle writes the same keys with the same bytes: it overwrites, never
duplicates.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from trendkit.contracts import TitleObserved
from trendkit.objectstore import ObjectStore, put_gzip

OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("title_id", pa.string(), nullable=False),
        pa.field("observed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("media_type", pa.string(), nullable=False),
        pa.field("year", pa.int32()),
        pa.field("tmdb_id", pa.int64()),
        pa.field("url", pa.string()),
        pa.field("signals", pa.string(), nullable=False),
    ]
)
"""Columns of the observations Parquet; ``signals`` is a JSON object with sorted keys."""


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def page_key(*, source: str, fetched_at: datetime, body: bytes, suffix: str = "html") -> str:
    """Return the archive key of a fetched body: raw/source/UTC date/content hash."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"raw/{source}/{_day(fetched_at)}/{digest}.{suffix}.gz"


async def archive_page(
    store: ObjectStore, *, source: str, fetched_at: datetime, body: bytes, suffix: str = "html"
) -> str:
    """Store a fetched page or API body gzip'd under its deterministic key; return the key."""
    key = page_key(source=source, fetched_at=fetched_at, body=body, suffix=suffix)
    await put_gzip(store, key, body)
    return key


def observations_key(observations: Sequence[TitleObserved]) -> str:
    """Return the Parquet key of one (source, date) group, hashed from its event ids."""
    first = observations[0]
    ids = "\n".join(sorted(o.event_id for o in observations))
    batch_hash = hashlib.sha256(ids.encode()).hexdigest()[:16]
    return (
        f"observations/source={first.observation.source}/"
        f"date={_day(first.observed_at)}/{batch_hash}.parquet"
    )


def observations_parquet(observations: Sequence[TitleObserved]) -> bytes:
    """Render observations as Parquet bytes, rows sorted by (observed_at, source, rank)."""
    rows = sorted(
        observations,
        key=lambda o: (o.observed_at, o.observation.source, o.observation.rank, o.event_id),
    )
    table = pa.Table.from_pylist(
        [
            {
                "event_id": o.event_id,
                "title_id": o.title_id,
                "observed_at": o.observed_at,
                "source": o.observation.source,
                "rank": o.observation.rank,
                "name": o.title.name,
                "media_type": o.title.media_type,
                "year": o.title.year,
                "tmdb_id": o.title.tmdb_id,
                "url": o.observation.url,
                "signals": json.dumps(o.observation.signals, sort_keys=True),
            }
            for o in rows
        ],
        schema=OBSERVATION_SCHEMA,
    )
    sink = io.BytesIO()
    # Sorted rows and a fixed schema make the bytes repeatable, so a re-run rewrites the same file.
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


async def archive_observations(
    store: ObjectStore, observations: Sequence[TitleObserved]
) -> list[str]:
    """Write one Parquet file per (source, UTC date) of observations; return the keys."""
    groups: dict[tuple[str, str], list[TitleObserved]] = defaultdict(list)
    for o in observations:
        groups[(o.observation.source, _day(o.observed_at))].append(o)
    keys = []
    for _, group in sorted(groups.items()):
        key = observations_key(group)
        await store.put(
            key, observations_parquet(group), content_type="application/vnd.apache.parquet"
        )
        keys.append(key)
    return keys
