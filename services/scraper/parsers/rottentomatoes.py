"""Rotten Tomatoes' browse grid (``/browse/movies_in_theaters/…``)."""

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
    parse_percent,
    rows_checked,
)

SOURCE = "rottentomatoes_browse"
TILE = '[data-qa="discovery-media-list-item"]'
TITLE = '[data-qa="discovery-media-list-item-title"]'
# Only a first release dates the title; "Re-released Feb 07, 2025" (Parasite) does not.
OPENED = re.compile(r"^Opened\b.*\b(\d{4})$")


def _scores(tile: LexborNode) -> dict[str, float]:
    """Return the Tomatometer and Popcornmeter scores (0–100) that the tile shows."""
    signals: dict[str, float] = {}
    for slot, key in (("criticsScore", "critics_score"), ("audienceScore", "audience_score")):
        score = parse_percent(clean_text(tile.css_first(f'[slot="{slot}"]')))
        if score is not None and 0 <= score <= 100:
            signals[key] = score
    if "critics_score" in signals:
        certified = attr(tile.css_first("score-icon-critics"), "certified")
        if certified in ("true", "false"):
            signals["certified_fresh"] = 1.0 if certified == "true" else 0.0
    return signals


class RottenTomatoesBrowse:
    """Parse a browse grid: rank is the tile's position, scores as numbers."""

    name = SOURCE
    default_base_url = "https://www.rottentomatoes.com/browse/movies_in_theaters/"

    def parse(self, html: str | bytes, *, base_url: str) -> list[ChartEntry]:
        """Parse the grid's tiles into rows, in grid order."""
        tiles = find_rows(load(html), TILE, SOURCE)
        with rows_checked(SOURCE):
            return [self._entry(tile, rank, base_url) for rank, tile in enumerate(tiles, start=1)]

    def _entry(self, tile: LexborNode, rank: int, base_url: str) -> ChartEntry:
        # clean_text matters here: the saved page was re-indented, padding every text node.
        title = clean_text(tile.css_first(TITLE))
        if not title:
            raise LayoutError(SOURCE, f"tile {rank} has no title ({TITLE})")
        link = tile.css_first('a[data-qa="discovery-media-list-item-caption"]') or tile.css_first(
            'a[href^="/m/"], a[href^="/tv/"]'
        )
        href = attr(link, "href")
        opened = OPENED.match(clean_text(tile.css_first('[data-qa*="start-date"]')))
        return ChartEntry(
            rank=rank,
            title=title,
            year=int(opened.group(1)) if opened else None,
            media_type="tv" if href and href.startswith("/tv/") else "movie",
            url=absolute_url(base_url, href),
            signals=_scores(tile),
        )
