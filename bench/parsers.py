"""Time our selectolax (lexbor) chart parsers against BeautifulSoup(lxml) doing the same job.

    python -m bench.parsers [--repeat 20] [--pages ../shared/data/pages]

For every saved chart page present, both implementations run in the same process, one
after the other, ``--repeat`` times each; the median milliseconds per page and the ratio
(BeautifulSoup ÷ selectolax) are printed. Both must extract the same ranks and titles, or
the comparison is void and the run fails. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from services.scraper.parsers import PARSERS

DEFAULT_PAGES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pages"
PAGES = {
    "boxofficemojo_daily": "boxofficemojo_daily_2024-12-21.html",
    "imdb_moviemeter": "imdb_moviemeter_2023-09.html",
    "rottentomatoes_browse": "rottentomatoes_browse_in_theaters_2025-02.html",
    "letterboxd_popular": "letterboxd_popular_week_ajax_2025-12.html",
}

Row = dict[str, object]


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text().split()) if node is not None else ""


def _attr(node: Tag | None, name: str) -> str:
    value = node.get(name) if node is not None else None
    return value if isinstance(value, str) else ""


def _money(text: str) -> float | None:
    match = re.fullmatch(r"\$([\d,]+)", text)
    return float(match.group(1).replace(",", "")) if match else None


# The peers: the same rows, titles, links and main numbers, written the BeautifulSoup way.


def bs4_boxofficemojo(page: bytes) -> list[Row]:
    """Extract rank, title, link, daily gross and theaters from the daily chart."""
    soup = BeautifulSoup(page, "lxml")
    rows: list[Row] = []
    for cell in soup.select("td.mojo-field-type-release"):
        row = cell.find_parent("tr")
        assert isinstance(row, Tag)
        tds = row.find_all("td")
        link = cell.find("a")
        rows.append(
            {
                "rank": int(_text(tds[0])),
                "title": _text(link),
                "url": _attr(link, "href"),
                "gross_usd": _money(_text(tds[3])),
                "theaters": int(_text(tds[6]).replace(",", "") or 0),
            }
        )
    return rows


def bs4_imdb(page: bytes) -> list[Row]:
    """Extract rank, title, link, rank change and rating from the MovieMeter chart."""
    soup = BeautifulSoup(page, "lxml")
    rows: list[Row] = []
    for item in soup.select("li.ipc-metadata-list-summary-item"):
        ranking = item.select_one(".meter-const-ranking")
        rows.append(
            {
                "rank": int(re.findall(r"\d+", _attr(ranking, "aria-label"))[0]),
                "title": _text(item.select_one("h3.ipc-title__text")),
                "url": _attr(item.select_one("a.ipc-title-link-wrapper"), "href"),
                "change": _attr(
                    item.select_one(".meter-const-ranking span[aria-label]"), "aria-label"
                ),
                "rating": _attr(item.select_one(".ipc-rating-star--imdb"), "aria-label"),
                "metadata": [_text(m) for m in item.select(".cli-title-metadata-item")],
            }
        )
    return rows


def bs4_rottentomatoes(page: bytes) -> list[Row]:
    """Extract position, title, link and both scores from the browse grid."""
    soup = BeautifulSoup(page, "lxml")
    rows: list[Row] = []
    tiles = soup.select('[data-qa="discovery-media-list-item"]')
    for rank, tile in enumerate(tiles, start=1):
        rows.append(
            {
                "rank": rank,
                "title": _text(tile.select_one('[data-qa="discovery-media-list-item-title"]')),
                "url": _attr(
                    tile.select_one('a[data-qa="discovery-media-list-item-caption"]'), "href"
                ),
                "critics": _text(tile.select_one('[slot="criticsScore"]')),
                "audience": _text(tile.select_one('[slot="audienceScore"]')),
            }
        )
    return rows


def bs4_letterboxd(page: bytes) -> list[Row]:
    """Extract position, title, year, link and average rating from the poster grid."""
    soup = BeautifulSoup(page, "lxml")
    rows: list[Row] = []
    for rank, poster in enumerate(soup.select("li.posteritem"), start=1):
        data = poster.select_one("[data-item-name]")
        name = re.match(r"^(.*\S)\s*\((\d{4})\)$", _attr(data, "data-item-name"))
        rows.append(
            {
                "rank": rank,
                "title": name.group(1) if name else _attr(data, "data-item-name"),
                "year": int(name.group(2)) if name else None,
                "url": _attr(data, "data-item-link"),
                "average_rating": _attr(poster, "data-average-rating"),
            }
        )
    return rows


PEERS: dict[str, Callable[[bytes], list[Row]]] = {
    "boxofficemojo_daily": bs4_boxofficemojo,
    "imdb_moviemeter": bs4_imdb,
    "rottentomatoes_browse": bs4_rottentomatoes,
    "letterboxd_popular": bs4_letterboxd,
}


def ours(source: str) -> Callable[[bytes], list[Row]]:
    """Return our parser for ``source``, its rows as plain dicts."""
    parser = PARSERS[source]

    def run(page: bytes) -> list[Row]:
        entries = parser.parse(page, base_url=parser.default_base_url)
        return [entry.model_dump() for entry in entries]

    return run


def ranked_titles(rows: list[Row]) -> list[tuple[object, object]]:
    """Reduce rows to what both implementations must agree on."""
    return [(row["rank"], row["title"]) for row in rows]


def median_ms(extract: Callable[[bytes], list[Row]], page: bytes, repeat: int) -> float:
    """Return the median wall time of ``extract(page)`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        extract(page)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison on every saved page present and print the figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    args.add_argument("--repeat", type=int, default=20)
    args.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    options = args.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    for source, name in PAGES.items():
        path = options.pages / name
        if not path.is_file():
            print(f"{source}: skipped, {path} is absent (shared test data lives outside the repo)")
            continue
        page = path.read_bytes()
        mine, peer = ours(source), PEERS[source]
        if ranked_titles(mine(page)) != ranked_titles(peer(page)):
            print(f"{source}: the two implementations disagree; no timing", file=sys.stderr)
            return 1
        fast = median_ms(mine, page, options.repeat)
        slow = median_ms(peer, page, options.repeat)
        rows = len(mine(page))
        results[source] = {
            "rows": rows,
            "kib": round(len(page) / 1024, 1),
            "selectolax_ms": round(fast, 2),
            "bs4_lxml_ms": round(slow, 2),
            "ratio": round(slow / fast, 1),
        }
        print(
            f"{source:24} {rows:4} rows {len(page) / 1024:7.0f} KiB   selectolax {fast:7.2f} ms"
            f"   bs4+lxml {slow:8.2f} ms   ×{slow / fast:.1f}"
        )
    print(json.dumps({"bench": "parsers", "repeat": options.repeat, "pages": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
