"""Letterboxd's "popular this week" poster grid (``/films/ajax/popular/this/week/``)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.scraper.parsers.base import (
    ChartEntry,
    GridLoadedElsewhere,
    LayoutError,
    absolute_url,
    attr,
    load,
    parse_decimal,
    rows_checked,
    split_title_year,
)

SOURCE = "letterboxd_popular"
POSTER = "li.posteritem"
NAMED = "[data-item-name]"
# The public page is a shell: a placeholder's data-url names the ajax grid it fetches.
GRID_PLACEHOLDER = '#films-browser-list-container[data-url], [data-url*="/films/ajax/"]'


def _raise_if_shell(tree: LexborHTMLParser, base_url: str) -> None:
    placeholder = tree.css_first(GRID_PLACEHOLDER)
    ajax_url = absolute_url(base_url, attr(placeholder, "data-url"))
    if ajax_url is not None:
        raise GridLoadedElsewhere(SOURCE, ajax_url)


class LetterboxdPopular:
    """Parse the poster grid: rank is the poster's position, title and year from its data."""

    name = SOURCE
    default_base_url = "https://letterboxd.com/films/popular/this/week/"

    def parse(self, html: str | bytes, *, base_url: str) -> list[ChartEntry]:
        """Parse the posters into rows; a page shell raises GridLoadedElsewhere."""
        tree = load(html)
        posters = tree.css(POSTER)
        if not posters:
            _raise_if_shell(tree, base_url)
            raise LayoutError(SOURCE, f"no chart items ({POSTER}) found")
        with rows_checked(SOURCE):
            return [self._entry(li, rank, base_url) for rank, li in enumerate(posters, start=1)]

    def _entry(self, poster: LexborNode, rank: int, base_url: str) -> ChartEntry:
        # The film's data sits on the poster's inner react-component div, not on the <li>.
        data = poster.css_first(NAMED)
        name = attr(data, "data-item-name") or attr(data, "data-item-full-display-name")
        if data is None or name is None:
            raise LayoutError(SOURCE, f"poster {rank} has no film name ({POSTER} {NAMED})")
        title, year = split_title_year(name)
        href = attr(data, "data-item-link") or attr(data, "data-target-link")
        signals: dict[str, float] = {}
        # Unrated titles (a brand-new film or episode) have no average: a missing signal.
        average = parse_decimal(attr(poster, "data-average-rating") or "")
        if average is not None:
            signals["average_rating"] = average
        return ChartEntry(
            rank=rank,
            title=title,
            year=year,
            media_type="movie",
            url=absolute_url(base_url, href),
            signals=signals,
        )
