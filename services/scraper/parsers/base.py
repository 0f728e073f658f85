"""What every chart parser returns and raises, and the small text helpers they share.

Parsers are pure domain code: HTML in, ``ChartEntry`` rows out. They never fetch anything;
the caller hands them the page and the URL it came from, so relative links become absolute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from selectolax.lexbor import LexborHTMLParser, LexborNode

from trendkit.contracts import (
    MediaType,
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    describe_validation_error,
    make_title_id,
)

# Strict so a scraped "1,234" can never slip through as a string coerced by luck.
Signal = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class ChartEntry(BaseModel):
    """One row of a chart: where a title stood and the numbers the site showed beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=500)
    year: int | None = Field(default=None, ge=1870, le=2100)
    media_type: MediaType
    url: str | None = None
    signals: dict[str, Signal] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"url must be absolute http(s), got {value!r}")
        return value


def to_observed(
    entry: ChartEntry, *, source: str, observed_at: datetime, scraped_by: Provenance
) -> TitleObserved:
    """Turn a chart row into the ``titles.raw`` event it stands for."""
    title_id = make_title_id(media_type=entry.media_type, title=entry.title, year=entry.year)
    when = observed_at.astimezone(UTC)
    return TitleObserved(
        # Same recipe as the replay source, so one fact always gets one id.
        event_id=derive_event_id(source, title_id, when.isoformat(), str(entry.rank)),
        title_id=title_id,
        observed_at=when,
        title=TitleInfo(name=entry.title, media_type=entry.media_type, year=entry.year),
        observation=Observation(
            source=source, rank=entry.rank, url=entry.url, signals=dict(entry.signals)
        ),
        scraped_by=scraped_by,
    )


class LayoutError(ValueError):
    """The page does not have the structure the parser expects (so no chart is returned)."""

    def __init__(self, source: str, missing: str) -> None:
        super().__init__(f"{source}: {missing}")
        self.source = source
        self.missing = missing


class GridLoadedElsewhere(LayoutError):
    """The page is a shell whose chart is fetched by a later request to ``ajax_url``."""

    def __init__(self, source: str, ajax_url: str) -> None:
        super().__init__(source, f"no films in this page shell: the grid is loaded from {ajax_url}")
        self.ajax_url = ajax_url


class Parser(Protocol):
    """A chart page parser, registered under its source name."""

    name: str
    default_base_url: str

    def parse(self, html: str | bytes, *, base_url: str) -> list[ChartEntry]:
        """Parse a saved chart page into its rows, best rank first."""
        ...


# --- helpers shared by the parsers ----------------------------------------------------


def load(html: str | bytes) -> LexborHTMLParser:
    """Parse a document with lexbor."""
    return LexborHTMLParser(html)


def find_rows(root: LexborHTMLParser | LexborNode, selector: str, source: str) -> list[LexborNode]:
    """Return the chart's row nodes, or raise LayoutError when there are none."""
    rows = root.css(selector)
    if not rows:
        raise LayoutError(source, f"no chart items ({selector}) found")
    return rows


@contextmanager
def rows_checked(source: str) -> Iterator[None]:
    """Turn a row that fails ChartEntry's checks (a year of 0, a huge title) into a LayoutError."""
    try:
        yield
    except ValidationError as error:
        detail = describe_validation_error(error)
        raise LayoutError(source, f"a chart row is not valid: {detail}") from error


def clean_text(node: LexborNode | None) -> str:
    """Return a node's text with runs of whitespace (and formatter indentation) collapsed."""
    if node is None:
        return ""
    return " ".join(node.text().split())


def attr(node: LexborNode | None, name: str) -> str | None:
    """Return an attribute's value, stripped, or None when absent or blank."""
    if node is None:
        return None
    value = node.attributes.get(name)
    value = value.strip() if value else None
    return value or None


def absolute_url(base_url: str, href: str | None, *, keep_query: bool = True) -> str | None:
    """Resolve a link against the page URL; drop the query when it only carries tracking."""
    if not href:
        return None
    parts = urlsplit(urljoin(base_url, href))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = parts.query if keep_query else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


_MONEY = re.compile(r"^([+-])?\$\s?(\d{1,3}(?:,\d{3})*|\d+)(\.\d+)?$")
_PERCENT = re.compile(r"^([+-])?(\d{1,3}(?:,\d{3})*|\d+)(\.\d+)?\s?%$")
_INTEGER = re.compile(r"^([+-])?(\d{1,3}(?:,\d{3})*|\d+)()$")
_DECIMAL = re.compile(r"^([+-])?(\d+)(\.\d+)?$")
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)([KMB])?$", re.IGNORECASE)
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9}


def _signed(match: re.Match[str]) -> float:
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    value = float(whole.replace(",", "") + fraction)
    return -value if sign == "-" else value


def parse_money(text: str) -> float | None:
    """Read "$1,234,567" as 1234567.0; anything else ("-", "n/a", "") is None."""
    match = _MONEY.match(text.strip())
    return _signed(match) if match else None


def parse_percent(text: str) -> float | None:
    """Read "-12.3%" as -12.3; placeholders ("-") and bounds ("<0.1%") are None."""
    match = _PERCENT.match(text.strip())
    return _signed(match) if match else None


def parse_int(text: str) -> int | None:
    """Read "3,761" as 3761; anything else is None."""
    match = _INTEGER.match(text.strip())
    return int(_signed(match)) if match else None


def parse_decimal(text: str) -> float | None:
    """Read a plain decimal such as "3.58"; anything else (including "nan") is None."""
    match = _DECIMAL.match(text.strip())
    return _signed(match) if match else None


def parse_count(text: str) -> float | None:
    """Read an abbreviated count such as "14K", "1.9M" or "342"; anything else is None."""
    match = _COUNT.match(text.strip().strip("()").replace(",", ""))
    if not match:
        return None
    return float(round(float(match.group(1)) * _SCALE[(match.group(2) or "").upper()]))


def split_title_year(name: str) -> tuple[str, int | None]:
    """Split "Film Name (2025)" into the name and the year; no year gives None."""
    match = re.match(r"^(.*\S)\s*\((\d{4})\)$", name.strip())
    if match:
        return match.group(1), int(match.group(2))
    return name.strip(), None
