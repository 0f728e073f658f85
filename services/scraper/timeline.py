"""The replay source's input: a timeline of chart observations, one JSON object per line.

Format (UTF-8 JSON lines; blank lines are skipped but still counted for line numbers)::

    {"at": "2026-03-13T00:00:00Z", "source": "tmdb_trending_day", "rank": 3,
     "media_type": "movie", "title": "Midnight Ferry", "year": 2026, "tmdb_id": 123,
     "overview": "...", "url": null, "signals": {"rank_change": 2}}

``at`` is when the source showed the title; it must carry a timezone and is normalised
to UTC. ``year``, ``tmdb_id``, ``overview``, ``url`` and ``signals`` are optional.
``signals`` are the source's own numbers; by convention ``rank_change`` is the previous
rank minus this one, so a title that climbs has a positive change. Unknown fields are
rejected so that a typo in a hand-edited file cannot pass silently, and types are strict
(``"rank": "3"`` is an error, not a 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trendkit.contracts import MediaType, UtcDatetime, make_title_id

DEMO_TIMELINE = Path(__file__).parent / "demo" / "demo_timeline.jsonl"
"""The authored demo timeline shipped with the scraper (fictional titles)."""


class TimelineError(ValueError):
    """A timeline file that cannot be replayed; names the file, line and field at fault."""

    def __init__(self, path: str, line: int | None, field: str | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}" if field is None else f"{where}: {field}: {reason}")


class TimelineEntry(BaseModel):
    """One line of a timeline: a title seen at one rank on one source at one instant."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    at: UtcDatetime
    source: str = Field(min_length=1, max_length=64)
    rank: int = Field(ge=1, le=10_000)
    media_type: MediaType
    title: str = Field(min_length=1, max_length=500)
    year: int | None = Field(default=None, ge=1870, le=2100)
    tmdb_id: int | None = Field(default=None, ge=1)
    overview: str = Field(default="", max_length=5000)
    url: str | None = None
    signals: dict[str, float] = Field(default_factory=dict)

    @property
    def title_id(self) -> str:
        """Return the stable id of the title, as every service will know it."""
        return make_title_id(
            media_type=self.media_type, tmdb_id=self.tmdb_id, title=self.title, year=self.year
        )


def _describe(error: ValidationError) -> tuple[str | None, str]:
    """Return the field of the first error, and every error as one reason after it."""
    items = error.errors(include_url=False)
    fields = [".".join(str(part) for part in item["loc"]) or None for item in items]
    reasons = [items[0]["msg"]]
    reasons += [f"{field}: {item['msg']}" for field, item in zip(fields, items, strict=True)][1:]
    return fields[0], "; ".join(reasons)


def parse_timeline(content: bytes, *, name: str) -> list[TimelineEntry]:
    """Validate every line of a timeline and return its entries sorted by time (stable)."""
    entries: list[TimelineEntry] = []
    seen: dict[tuple[str, object, str], int] = {}
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            entry = TimelineEntry.model_validate_json(raw)
        except ValidationError as exc:
            field, reason = _describe(exc)
            raise TimelineError(name, number, field, reason) from exc
        # One title twice in one snapshot of one source would count it twice downstream.
        key = (entry.source, entry.at, entry.title_id)
        if key in seen:
            reason = (
                f"{entry.title!r} is already listed by {entry.source} at "
                f"{entry.at.isoformat()} (line {seen[key]})"
            )
            raise TimelineError(name, number, "title", reason)
        seen[key] = number
        entries.append(entry)
    if not entries:
        raise TimelineError(name, None, None, "the timeline has no observations")
    return sorted(entries, key=lambda entry: entry.at)


class TimelineFile(NamedTuple):
    """A timeline file as read: where it came from, its exact bytes and its entries."""

    path: Path
    content: bytes
    entries: list[TimelineEntry]


def read_timeline(path: str | Path) -> TimelineFile:
    """Read and validate a timeline file, keeping its bytes (for provenance hashes)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise TimelineError(str(path), None, None, f"cannot read: {exc.strerror}") from exc
    return TimelineFile(path, content, parse_timeline(content, name=str(path)))


def load_timeline(path: str | Path) -> list[TimelineEntry]:
    """Read and validate a timeline file; raise TimelineError naming the bad line."""
    return read_timeline(path).entries
