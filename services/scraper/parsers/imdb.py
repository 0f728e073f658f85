"""IMDb's "Most Popular Movies" chart (``/chart/moviemeter/``), ``ipc-`` markup."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from services.scraper.parsers.base import (
    ChartEntry,
    LayoutError,
    absolute_url,
    attr,
    clean_text,
    find_rows,
    load,
    parse_count,
    rows_checked,
)

SOURCE = "imdb_moviemeter"
ITEM = "li.ipc-metadata-list-summary-item"
TITLE = "h3.ipc-title__text"
TITLE_ID = re.compile(r"/title/(tt\d+)")
NUMBERED_TITLE = re.compile(r"^(\d+)\.\s+(.+)$")
RUNTIME = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?$")
YEAR = re.compile(r"^(\d{4})(?:\s*[–-]\s*(?:\d{4})?)?$")  # "2023" or a series' "2021–"
DECIMAL = re.compile(r"\d+(?:\.\d+)?")


def _rank_change(ranking: LexborNode | None) -> float | None:
    """Read the movement since last week: the direction is only in an aria-label or icon."""
    if ranking is None:
        return None
    marker = ranking.css_first("span[aria-label]")
    label = (attr(marker, "aria-label") or "").lower()
    if "no rank change" in label:
        return 0.0
    moved = re.search(r"moved (up|down) ([\d,]+)", label)
    if moved:
        size = float(moved.group(2).replace(",", ""))
        return size if moved.group(1) == "up" else -size
    icon = attr(ranking.css_first("svg"), "class") or ""
    size_text = clean_text(marker).replace(",", "")
    if "rank-flat" in icon:
        return 0.0
    if size_text.isdigit() and ("rank-up" in icon or "rank-down" in icon):
        return float(size_text) if "rank-up" in icon else -float(size_text)
    return None


def _rank(item: LexborNode, numbered: int | None, position: int) -> int:
    """Take the rank from the ranking badge, else the "1. " title prefix, else the order."""
    ranking = item.css_first(".meter-const-ranking")
    label = attr(ranking, "aria-label") or ""
    shown = re.search(r"\d+", label) or re.match(r"\d+", clean_text(ranking))
    if shown:
        return int(shown.group())
    return numbered if numbered is not None else position


def _metadata(item: LexborNode) -> tuple[int | None, float | None]:
    """Return the year and the runtime in minutes from the metadata line."""
    year: int | None = None
    runtime: float | None = None
    for cell in item.css(".cli-title-metadata-item"):
        text = clean_text(cell)
        if year is None and (found := YEAR.match(text)):
            year = int(found.group(1))
        elif runtime is None and text and (length := RUNTIME.match(text)):
            runtime = float(int(length.group(1) or 0) * 60 + int(length.group(2) or 0))
    return year, runtime


def _rating(item: LexborNode) -> dict[str, float]:
    star = item.css_first(".ipc-rating-star--imdb")
    if star is None:
        return {}
    signals: dict[str, float] = {}
    # The aria-label holds the rating alone; the visible text runs it into the vote count.
    label = attr(star, "aria-label") or clean_text(star)
    found = DECIMAL.search(label)
    if found:
        signals["rating"] = float(found.group())
    votes = parse_count(clean_text(star.css_first(".ipc-rating-star--voteCount")))
    if votes is not None:
        signals["votes"] = votes
    return signals


class ImdbMovieMeter:
    """Parse the MovieMeter chart: rank, movement, year, runtime and rating per title."""

    name = SOURCE
    default_base_url = "https://www.imdb.com/chart/moviemeter/"

    def parse(self, html: str | bytes, *, base_url: str) -> list[ChartEntry]:
        """Parse the chart list into rows, in chart order."""
        items = find_rows(load(html), ITEM, SOURCE)
        with rows_checked(SOURCE):
            return [
                self._entry(item, position, base_url)
                for position, item in enumerate(items, start=1)
            ]

    def _entry(self, item: LexborNode, position: int, base_url: str) -> ChartEntry:
        title = clean_text(item.css_first(TITLE))
        if not title:
            raise LayoutError(SOURCE, f"chart item {position} has no title ({TITLE})")
        numbered = NUMBERED_TITLE.match(title)
        if numbered:  # the 2024 markup writes the rank into the heading: "1. Oppenheimer"
            title = numbered.group(2)
        link = item.css_first("a.ipc-title-link-wrapper") or item.css_first('a[href*="/title/tt"]')
        title_id = TITLE_ID.search(attr(link, "href") or "")
        year, runtime = _metadata(item)
        signals = _rating(item)
        change = _rank_change(item.css_first(".meter-const-ranking"))
        if change is not None:
            signals["rank_change"] = change
        if runtime:
            signals["runtime_min"] = runtime
        return ChartEntry(
            rank=_rank(item, int(numbered.group(1)) if numbered else None, position),
            title=title,
            year=year,
            media_type="movie",
            # Canonical form: the chart's links carry a per-position ref_ tracking query.
            url=absolute_url(base_url, f"/title/{title_id.group(1)}/") if title_id else None,
            signals=signals,
        )
