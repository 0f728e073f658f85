"""Read titles to enrich from a file: JSON lines of ``titles.raw`` events, or a CSV.

A CSV needs ``title`` and ``overview`` columns; ``year``, ``media_type`` (movie|tv),
``rank`` and ``source`` are used when present. Without ``rank``, the row number is the
rank: the file is read as a chart, best first. Every error names the file and the line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from trendkit.contracts import (
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    describe_validation_error,
    make_title_id,
)


class InputError(ValueError):
    """A file of titles that cannot be read; the message names the file and the problem."""


def read_titles(path: Path, *, observed_at: datetime) -> Iterator[TitleObserved]:
    """Yield the titles in ``path`` (.csv, else JSON lines) as ``titles.raw`` events."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        yield from _from_csv(path, observed_at)
    else:
        yield from _from_jsonl(path)


def _from_jsonl(path: Path) -> Iterator[TitleObserved]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield TitleObserved.model_validate_json(line)
            except ValidationError as exc:
                raise InputError(
                    f"{path}:{number}: not a titles.raw event: {describe_validation_error(exc)}"
                ) from exc


def _from_csv(path: Path, observed_at: datetime) -> Iterator[TitleObserved]:
    scraped_by = Provenance(provider="file", model="csv", version=path.name)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        found = list(reader.fieldnames or ())
        missing = {"title", "overview"} - set(found)
        if missing:
            raise InputError(
                f"{path}: a CSV of titles needs the columns title and overview; "
                f"missing {', '.join(sorted(missing))} (found: {', '.join(found) or 'none'})"
            )
        for number, row in enumerate(reader, 1):
            try:
                yield _row_to_event(row, number, observed_at, scraped_by)
            except (ValidationError, ValueError) as exc:
                reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else exc
                raise InputError(f"{path}: row {number}: {reason}") from exc


def _row_to_event(
    row: dict[str, str], number: int, observed_at: datetime, scraped_by: Provenance
) -> TitleObserved:
    media = (row.get("media_type") or "movie").strip() or "movie"
    year_text = (row.get("year") or row.get("release_date") or "")[:4].strip()
    year = int(year_text) if year_text.isdigit() else None
    info = TitleInfo.model_validate(
        {
            "name": (row["title"] or "").strip(),
            "media_type": media,
            "year": year,
            "overview": (row["overview"] or "").strip(),
        }
    )
    source = (row.get("source") or "file").strip() or "file"
    rank = int(row["rank"]) if (row.get("rank") or "").strip() else number
    title_id = make_title_id(media_type=info.media_type, title=info.name, year=info.year)
    return TitleObserved(
        event_id=derive_event_id(title_id, source, str(rank), json.dumps(row, sort_keys=True)),
        title_id=title_id,
        observed_at=observed_at,
        title=info,
        observation=Observation(source=source, rank=rank),
        scraped_by=scraped_by,
    )
