"""Build training sets: read titles from a file or Postgres, dedupe, split, save with a card.

* A file is CSV or Parquet with ``title``, ``overview`` and ``genres`` (``|``-separated
  TMDb or taxonomy names); ``id``, ``tmdb_id``, ``media_type``, ``year`` or
  ``release_date`` and ``llm_genres`` are used when present.
* Postgres gives titles with their source's genres (TMDb's); the LLM's genres come along
  as ``llm_genres`` (for agreement), and become labels only when asked for, flagged
  ``label_source="llm"``.
* The split is by a hash of the row's id: the same title lands in the same split on every
  machine and every run, whatever else the file holds.
* The data card says what went in: rows per split, label distribution, what was dropped
  and why, and a content hash of the rows, which model versions record.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from services.classifier.data import Dataset, LabelledTitle
from trendkit.contracts import normalise_title, now_utc
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow, Title
from trendkit.taxonomy import GENRES, map_tmdb_genres

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")
REQUIRED = ("title", "overview", "genres")
CARD = "card.json"


class DatasetError(ValueError):
    """A file or folder that cannot be made into a dataset; names it and the problem."""


def split_of(row_id: str) -> Split:
    """Return a row's split from its id: 10% test, 10% validation, 80% training."""
    bucket = int(hashlib.sha1(row_id.encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < 10 else "val" if bucket < 20 else "train"


def _labels(raw: str | Sequence[str] | None) -> tuple[list[str], list[str]]:
    """Map genre names onto the taxonomy; return (labels, names that are not in it)."""
    names = [n.strip() for n in (raw.split("|") if isinstance(raw, str) else raw or [])]
    names = [n for n in names if n]
    mapped = map_tmdb_genres(names)
    unknown = [n for n in names if not map_tmdb_genres([n]) and n != "TV Movie"]
    return mapped, unknown


@dataclass
class Collected:
    """Rows read from a source, and what was left out on the way."""

    rows: list[LabelledTitle]
    source: str
    dropped: Counter[str] = field(default_factory=Counter)
    unknown_labels: Counter[str] = field(default_factory=Counter)


def read_file(path: Path) -> Collected:
    """Read a CSV or Parquet file of labelled titles."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    records = _parquet_records(path) if path.suffix.lower() == ".parquet" else _csv_records(path)
    collected = Collected([], source=f"file:{path.name}")
    for number, record in enumerate(records, 1):
        row = _row(record, number, path, collected)
        if row is not None:
            collected.rows.append(row)
    return collected


def _csv_records(path: Path) -> Iterable[Mapping[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        _require(path, reader.fieldnames or [])
        yield from reader


def _parquet_records(path: Path) -> Iterable[Mapping[str, Any]]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{path}: not a readable Parquet file: {exc}") from exc
    _require(path, table.column_names)
    records: list[dict[str, Any]] = table.to_pylist()
    return records


def _require(path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise DatasetError(
            f"{path}: a training file needs the columns {', '.join(REQUIRED)}; missing "
            f"{', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )


def _row(
    record: Mapping[str, Any], number: int, path: Path, collected: Collected
) -> LabelledTitle | None:
    title = str(record.get("title") or "").strip()
    if not title:
        collected.dropped["no title"] += 1
        return None
    media = str(record.get("media_type") or "movie").strip() or "movie"
    if media not in ("movie", "tv"):
        raise DatasetError(f"{path}: row {number}: media_type must be movie or tv, not {media!r}")
    year = _year(record.get("year") or record.get("release_date"))
    genres, unknown = _labels(record.get("genres"))
    collected.unknown_labels.update(unknown)
    if not genres:
        collected.dropped["no known genre"] += 1
        return None
    llm = record.get("llm_genres")
    return LabelledTitle(
        title=title,
        overview=str(record.get("overview") or "").strip(),
        media_type=media,
        year=year,
        id=_row_id(record, title, media, year),
        genres=tuple(genres),
        llm_genres=tuple(_labels(llm)[0]) if llm else None,
        label_source="file",
    )


def _year(value: Any) -> int | None:
    text = str(value or "")[:4]
    return int(text) if text.isdigit() else None


def _row_id(record: Mapping[str, Any], title: str, media: str, year: int | None) -> str:
    if record.get("id"):
        return str(record["id"])
    if str(record.get("tmdb_id") or "").strip():
        return f"tmdb:{media}:{int(float(record['tmdb_id']))}"
    basis = f"{normalise_title(title)}|{year or ''}|{media}"
    return f"title:{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


async def read_db(db: Database, *, llm_labels: bool = False) -> Collected:
    """Read titles with their source genres; the LLM's genres come along for agreement.

    With ``llm_labels``, titles whose source gave no genres are labelled with the LLM's,
    flagged ``label_source="llm"`` (and counted apart in the card).
    """
    async with db.transaction() as session:
        titles = (await session.scalars(select(Title))).all()
        enrichments = (
            await session.execute(
                select(EnrichmentRow.title_id, EnrichmentRow.genres, EnrichmentRow.provider)
                .where(EnrichmentRow.provider != "local")
                .order_by(EnrichmentRow.created_at)
            )
        ).all()
    llm = {title_id: genres for title_id, genres, _ in enrichments}  # the latest wins
    collected = Collected([], source="db")
    for t in titles:
        source_genres = [g for g in t.genres if g in GENRES]
        llm_genres = tuple(g for g in llm.get(t.title_id, []) if g in GENRES) or None
        if source_genres:
            genres, label_source = tuple(source_genres), "tmdb"
        elif llm_labels and llm_genres:
            genres, label_source = llm_genres, "llm"
        else:
            collected.dropped["no source genres"] += 1
            continue
        collected.rows.append(
            LabelledTitle(
                title=t.name,
                overview=t.overview,
                media_type=t.media_type,
                year=t.year,
                id=t.title_id,
                genres=genres,
                llm_genres=llm_genres,
                label_source=label_source,
            )
        )
    return collected


def dedupe(collected: Collected) -> list[LabelledTitle]:
    """Keep the first row of each id, then of each (normalised title, year, media type)."""
    seen: set[str] = set()
    out: list[LabelledTitle] = []
    for row in collected.rows:
        keys = (row.id, f"{normalise_title(row.title)}|{row.year}|{row.media_type}")
        if any(k in seen for k in keys):
            collected.dropped["duplicate"] += 1
            continue
        seen.update(keys)
        out.append(row)
    return out


@dataclass
class DataCard:
    """What a built dataset holds; its ``content_hash`` identifies the data exactly."""

    source: str
    rows: int
    rows_per_split: dict[str, int]
    labels: list[str]
    label_distribution: dict[str, dict[str, int]]  # split → label → positives
    label_sources: dict[str, int]
    dropped: dict[str, int]
    unknown_labels: dict[str, int]
    content_hash: str
    test_split_hash: str
    created_at: str

    def to_json(self) -> str:
        """Return the card as indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def _rows_hash(rows: Iterable[LabelledTitle]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.id):
        digest.update(json.dumps(asdict(row), sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def build(collected: Collected) -> tuple[dict[Split, Dataset], DataCard]:
    """Dedupe, split and describe a collection of rows."""
    rows = dedupe(collected)
    if not rows:
        raise DatasetError(
            f"{collected.source}: no usable rows (dropped: {dict(collected.dropped) or 'none'})"
        )
    labels = tuple(g for g in GENRES if any(g in r.genres for r in rows))
    by_split: dict[Split, list[LabelledTitle]] = {s: [] for s in SPLITS}
    for row in rows:
        by_split[split_of(row.id)].append(row)
    splits = {s: Dataset(by_split[s], labels) for s in SPLITS}
    card = DataCard(
        source=collected.source,
        rows=len(rows),
        rows_per_split={s: len(by_split[s]) for s in SPLITS},
        labels=list(labels),
        label_distribution={
            s: {g: sum(g in r.genres for r in by_split[s]) for g in labels} for s in SPLITS
        },
        label_sources=dict(Counter(r.label_source for r in rows)),
        dropped=dict(collected.dropped),
        unknown_labels=dict(collected.unknown_labels),
        content_hash=_rows_hash(rows),
        test_split_hash=_rows_hash(by_split["test"]),
        created_at=now_utc().isoformat(),
    )
    return splits, card


_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("overview", pa.string()),
        ("media_type", pa.string()),
        ("year", pa.int32()),
        ("genres", pa.list_(pa.string())),
        ("llm_genres", pa.list_(pa.string())),
        ("label_source", pa.string()),
    ]
)


def write(splits: Mapping[Split, Dataset], card: DataCard, directory: Path) -> Path:
    """Write ``train/val/test.parquet`` and ``card.json`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, dataset in splits.items():
        table = pa.Table.from_pylist(
            [
                {
                    "id": r.id,
                    "title": r.title,
                    "overview": r.overview,
                    "media_type": r.media_type,
                    "year": r.year,
                    "genres": list(r.genres),
                    "llm_genres": list(r.llm_genres) if r.llm_genres is not None else None,
                    "label_source": r.label_source,
                }
                for r in dataset
            ],
            schema=_SCHEMA,
        )
        pq.write_table(table, directory / f"{name}.parquet")
    (directory / CARD).write_text(card.to_json())
    return directory


def load(directory: Path) -> tuple[dict[Split, Dataset], DataCard]:
    """Read a folder :func:`write` made."""
    card_path = directory / CARD
    if not card_path.is_file():
        raise DatasetError(f"{directory}: not a built dataset (no {CARD}); run trending dataset")
    card = DataCard(**json.loads(card_path.read_text()))
    labels = tuple(card.labels)
    splits: dict[Split, Dataset] = {}
    for name in SPLITS:
        path = directory / f"{name}.parquet"
        if not path.is_file():
            raise DatasetError(f"{directory}: {name}.parquet is missing")
        rows = [
            LabelledTitle(
                title=r["title"],
                overview=r["overview"],
                media_type=r["media_type"],
                year=r["year"],
                id=r["id"],
                genres=tuple(r["genres"]),
                llm_genres=tuple(r["llm_genres"]) if r["llm_genres"] is not None else None,
                label_source=r["label_source"],
            )
            for r in pq.read_table(path).to_pylist()
        ]
        splits[name] = Dataset(rows, labels)
    return splits, card
