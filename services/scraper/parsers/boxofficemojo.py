"""Box Office Mojo's domestic daily chart (``/date/YYYY-MM-DD/``)."""

from __future__ import annotations

from collections.abc import Callable

from selectolax.lexbor import LexborNode

from services.scraper.parsers.base import (
    ChartEntry,
    LayoutError,
    absolute_url,
    attr,
    clean_text,
    find_rows,
    load,
    parse_int,
    parse_money,
    parse_percent,
    rows_checked,
)

SOURCE = "boxofficemojo_daily"
RELEASE_CELL = "td.mojo-field-type-release"
RANK_CELL = "td.mojo-field-type-rank"


def _number(text: str) -> float | None:
    value = parse_int(text)
    return None if value is None else float(value)


def _flag(text: str) -> float | None:
    return {"true": 1.0, "false": 0.0}.get(text.lower())


# Columns are found by their header's title, not their position: the site adds and
# reorders columns, and three of them share the same "money" cell class.
COLUMNS: dict[str, tuple[str, Callable[[str], float | None]]] = {
    "Rank Yesterday": ("rank_yesterday", _number),
    "Daily Gross": ("gross_usd", parse_money),
    "Gross Change/Day": ("change_pct", parse_percent),
    "Gross Change/Week": ("change_pct_week", parse_percent),
    "Number of Theaters": ("theaters", _number),
    "Per Theater Average Gross": ("per_theater_usd", parse_money),
    "Gross To Date": ("gross_to_date_usd", parse_money),
    "Number of Days In Release": ("days_in_release", _number),
    "Is New This Day": ("new_this_day", _flag),
    "Estimated": ("estimated", _flag),
}


def _header_titles(row: LexborNode) -> list[str | None]:
    """Return each header cell's title ("Daily Gross"), or its text when it has none."""
    titles: list[str | None] = []
    for th in row.css("th"):
        titled = th.css_first("[title]")
        titles.append(attr(titled, "title") or clean_text(th) or None)
    return titles


def _header_row(row: LexborNode) -> LexborNode | None:
    """Return the header row of the table that holds ``row``."""
    table = row.parent
    while table is not None and table.tag != "table":
        table = table.parent
    if table is None:
        return None
    return next((tr for tr in table.css("tr") if tr.css_first("th") is not None), None)


class BoxOfficeMojoDaily:
    """Parse the domestic daily chart: one row per release, grosses as USD numbers."""

    name = SOURCE
    default_base_url = "https://www.boxofficemojo.com/"

    def parse(self, html: str | bytes, *, base_url: str) -> list[ChartEntry]:
        """Parse the chart table into rows, in chart order."""
        tree = load(html)
        cells = find_rows(tree, RELEASE_CELL, SOURCE)
        rows = [cell.parent for cell in cells if cell.parent is not None]
        header = _header_row(rows[0])
        if header is None:
            raise LayoutError(SOURCE, "no header row (tr > th) above the chart rows")
        titles = _header_titles(header)
        with rows_checked(SOURCE):
            return [self._entry(row, titles, base_url) for row in rows]

    def _entry(self, row: LexborNode, titles: list[str | None], base_url: str) -> ChartEntry:
        link = row.css_first(f"{RELEASE_CELL} a")
        title = clean_text(link)
        rank = parse_int(clean_text(row.css_first(RANK_CELL)))
        if not title or rank is None or rank < 1:
            what = "title link" if not title else f"rank ({RANK_CELL})"
            raise LayoutError(SOURCE, f"a chart row has no {what}: {clean_text(row)[:80]!r}")
        signals: dict[str, float] = {}
        for header, cell in zip(titles, row.css("td"), strict=False):
            if header in COLUMNS:
                key, read = COLUMNS[header]
                value = read(clean_text(cell))
                if value is not None:
                    signals[key] = value
        if "rank_yesterday" in signals:
            # Positive means the title climbed since yesterday, as on the IMDb chart.
            signals["rank_change"] = signals["rank_yesterday"] - rank
        return ChartEntry(
            rank=rank,
            title=title,
            media_type="movie",
            # ref_ changes with the row number; without it the URL names the release.
            url=absolute_url(base_url, attr(link, "href"), keep_query=False),
            signals=signals,
        )
