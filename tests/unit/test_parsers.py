"""Chart page parsers: real saved pages, our own small pages, layout changes, and the CLI."""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from services.scraper.parsers import PARSERS, ChartEntry, GridLoadedElsewhere, LayoutError
from services.scraper.parsers.base import (
    parse_count,
    parse_int,
    parse_money,
    parse_percent,
    split_title_year,
)
from trendkit.contracts import TitleObserved, derive_event_id, make_title_id

REPO = Path(__file__).resolve().parents[2]
SHARED_PAGES = REPO / ".." / "shared" / "data" / "pages"
OUR_PAGES = REPO / "tests" / "fixtures" / "pages"

HOSTS = {
    "boxofficemojo_daily": "www.boxofficemojo.com",
    "imdb_moviemeter": "www.imdb.com",
    "rottentomatoes_browse": "www.rottentomatoes.com",
    "letterboxd_popular": "letterboxd.com",
}
REAL_PAGES = {
    "boxofficemojo_daily": ("boxofficemojo_daily_2024-12-21.html", 28),
    "imdb_moviemeter": ("imdb_moviemeter_2023-09.html", 100),
    "rottentomatoes_browse": ("rottentomatoes_browse_in_theaters_2025-02.html", 28),
    "letterboxd_popular": ("letterboxd_popular_week_ajax_2025-12.html", 72),
}
OUR_PAGE = {
    "boxofficemojo_daily": "boxofficemojo_daily.html",
    "imdb_moviemeter": "imdb_moviemeter.html",
    "rottentomatoes_browse": "rottentomatoes_browse.html",
    "letterboxd_popular": "letterboxd_popular_ajax.html",
}
# The class or attribute each parser finds its rows by: renaming it is a layout change.
ROW_MARKERS = {
    "boxofficemojo_daily": "mojo-field-type-release",
    "imdb_moviemeter": "ipc-metadata-list-summary-item",
    "rottentomatoes_browse": '"discovery-media-list-item"',
    "letterboxd_popular": "posteritem",
}


def real_page(name: str) -> bytes:
    """Read a saved page from the shared data, or skip the test when it is not there."""
    path = SHARED_PAGES / name
    if not path.is_file():
        pytest.skip(f"shared test data absent: {path} (real pages live outside the repo)")
    return path.read_bytes()


def parse(source: str, page: str | bytes) -> list[ChartEntry]:
    """Parse with the registered parser and its default base URL."""
    parser = PARSERS[source]
    return parser.parse(page, base_url=parser.default_base_url)


def by_rank(entries: list[ChartEntry]) -> dict[int, ChartEntry]:
    """Index rows by rank."""
    return {entry.rank: entry for entry in entries}


def assert_well_formed(source: str, entries: list[ChartEntry]) -> None:
    """Check what every chart must satisfy: ranks 1..n, typed numbers, absolute URLs."""
    assert [entry.rank for entry in entries] == list(range(1, len(entries) + 1))
    for entry in entries:
        assert entry.title == " ".join(entry.title.split())
        assert all(type(value) is float for value in entry.signals.values()), entry
        assert entry.url is not None
        parts = urlsplit(entry.url)
        assert (parts.scheme, parts.netloc) == ("https", HOSTS[source]), entry.url


def test_registry_names_the_four_chart_sources() -> None:
    assert set(PARSERS) == set(HOSTS)
    assert all(parser.name == name for name, parser in PARSERS.items())


# --- real saved pages -------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(REAL_PAGES))
def test_real_page_parses_to_every_row(source: str) -> None:
    name, rows = REAL_PAGES[source]
    entries = parse(source, real_page(name))
    assert len(entries) == rows
    assert_well_formed(source, entries)


def test_boxofficemojo_real_rows() -> None:
    rows = by_rank(parse("boxofficemojo_daily", real_page(REAL_PAGES["boxofficemojo_daily"][0])))
    sonic = rows[1]
    assert sonic.title == "Sonic the Hedgehog 3"
    assert sonic.url == "https://www.boxofficemojo.com/release/rl886211329/"
    assert sonic.media_type == "movie"
    assert sonic.signals["gross_usd"] == 19_320_946.0
    assert sonic.signals["change_pct"] == -24.1
    assert "change_pct_week" not in sonic.signals  # shown as "-": second day in release
    assert sonic.signals["theaters"] == 3761.0
    assert sonic.signals["per_theater_usd"] == 5137.0
    assert sonic.signals["gross_to_date_usd"] == 44_770_501.0
    assert sonic.signals["days_in_release"] == 2.0
    wicked = rows[3]
    assert (wicked.title, wicked.signals["change_pct"]) == ("Wicked", 38.7)
    assert wicked.signals["change_pct_week"] == -45.1
    assert rows[5].title == "Gladiator II"
    assert (rows[5].signals["rank_yesterday"], rows[5].signals["rank_change"]) == (6.0, 1.0)
    assert rows[10].signals["estimated"] == 1.0


def test_imdb_real_rows() -> None:
    rows = by_rank(parse("imdb_moviemeter", real_page(REAL_PAGES["imdb_moviemeter"][0])))
    first = rows[1]
    # The heading wraps over two lines in the markup.
    assert first.title == "You Are So Not Invited to My Bat Mitzvah"
    assert first.year == 2023
    assert first.url == "https://www.imdb.com/title/tt21276878/"
    assert first.signals == {
        "rank_change": 20.0,
        "rating": 6.0,
        "votes": 14_000.0,
        "runtime_min": 103.0,
    }
    assert (rows[2].title, rows[2].signals["rank_change"]) == ("Oppenheimer", -1.0)
    assert rows[2].signals["runtime_min"] == 180.0  # "3h"
    assert (rows[3].title, rows[3].signals["rank_change"]) == ("Barbie", 0.0)
    assert "rating" not in rows[5].signals  # Rebel Moon was not out yet: no rating
    assert (rows[81].title, rows[81].year) == ("Jurassic Park", 1993)


def test_rottentomatoes_real_rows() -> None:
    entries = parse("rottentomatoes_browse", real_page(REAL_PAGES["rottentomatoes_browse"][0]))
    rows = by_rank(entries)
    assert rows[1].title == "Heart Eyes"
    assert rows[1].url == "https://www.rottentomatoes.com/m/heart_eyes"
    assert rows[1].year == 2025
    assert rows[1].signals == {
        "critics_score": 81.0,
        "audience_score": 78.0,
        "certified_fresh": 1.0,
    }
    assert rows[2].signals["critics_score"] == 18.0
    named = {entry.title: entry for entry in entries}
    assert "critics_score" not in named["Creation of the Gods II: Demon Force"].signals
    assert "audience_score" not in named["Dark Nuns"].signals
    assert named["Parasite"].year is None  # "Re-released Feb 07, 2025" is not its year
    for entry in entries:
        assert all(
            0 <= entry.signals[k] <= 100
            for k in ("critics_score", "audience_score")
            if k in entry.signals
        )


def test_letterboxd_real_rows() -> None:
    entries = parse("letterboxd_popular", real_page(REAL_PAGES["letterboxd_popular"][0]))
    rows = by_rank(entries)
    assert (rows[1].title, rows[1].year) == ("Wicked: For Good", 2025)
    assert rows[1].url == "https://letterboxd.com/film/wicked-for-good/"
    assert rows[1].signals == {"average_rating": 3.58}
    assert (rows[72].title, rows[72].year) == ("Harry Potter and the Philosopher's Stone", 2001)
    assert all(entry.year is not None for entry in entries)
    unrated = [entry.title for entry in entries if "average_rating" not in entry.signals]
    assert unrated == ["Stranger Things 5: The Finale"]


def test_letterboxd_real_shell_says_where_the_grid_is() -> None:
    shell = real_page("letterboxd_popular_week_shell_2025-12.html")
    with pytest.raises(GridLoadedElsewhere) as caught:
        parse("letterboxd_popular", shell)
    ajax = "https://letterboxd.com/films/ajax/popular/this/week/?esiAllowFilters=true"
    assert caught.value.ajax_url == ajax
    assert "letterboxd_popular" in str(caught.value)
    assert f"loaded from {ajax}" in str(caught.value)


@pytest.mark.parametrize("source", sorted(REAL_PAGES))
def test_real_page_with_row_marker_renamed_is_a_layout_error(source: str) -> None:
    page = real_page(REAL_PAGES[source][0]).decode()
    changed = page.replace(ROW_MARKERS[source], "x-renamed-by-redesign")
    with pytest.raises(LayoutError, match=source):
        parse(source, changed)


# --- our own small pages ----------------------------------------------------------------


def our_page(source: str) -> str:
    """Read one of the small pages authored for these tests."""
    return (OUR_PAGES / OUR_PAGE[source]).read_text()


@pytest.mark.parametrize("source", sorted(OUR_PAGE))
def test_our_page_parses(source: str) -> None:
    entries = parse(source, our_page(source))
    assert len(entries) == 3
    assert_well_formed(source, entries)


def test_boxofficemojo_our_page() -> None:
    rows = by_rank(parse("boxofficemojo_daily", our_page("boxofficemojo_daily")))
    assert rows[1].title == "The Lighthouse Keeper's Daughter"
    assert rows[1].url == "https://www.boxofficemojo.com/release/rl1000000001/"
    assert rows[1].signals["rank_change"] == 1.0
    assert rows[2].signals["rank_change"] == -1.0
    assert "change_pct_week" not in rows[2].signals  # "<0.1%" is a bound, not a figure
    assert rows[2].signals["gross_to_date_usd"] == 143_880_012.0
    assert {"rank_yesterday", "rank_change"}.isdisjoint(rows[3].signals)
    assert rows[3].signals["new_this_day"] == 1.0


def test_imdb_our_page() -> None:
    rows = by_rank(parse("imdb_moviemeter", our_page("imdb_moviemeter")))
    assert rows[1].title == "The Glass Orchard"
    assert [rows[r].signals["rank_change"] for r in (1, 2, 3)] == [7.0, -3.0, 0.0]
    assert rows[2].title == "Northern Static"  # the "2. " prefix is the rank, not the title
    assert rows[2].signals["votes"] == 1_200_000.0
    assert rows[2].signals["runtime_min"] == 58.0
    assert rows[3].signals == {"rank_change": 0.0}


def test_rottentomatoes_our_page() -> None:
    rows = by_rank(parse("rottentomatoes_browse", our_page("rottentomatoes_browse")))
    assert (rows[1].title, rows[1].year) == ("Paper Comets", 2030)
    assert rows[2].signals == {"audience_score": 41.0}
    assert rows[3].media_type == "tv"
    assert rows[3].url == "https://www.rottentomatoes.com/tv/harbour_lights"


def test_letterboxd_our_page() -> None:
    rows = by_rank(parse("letterboxd_popular", our_page("letterboxd_popular")))
    assert (rows[2].title, rows[2].year) == ("Paper Comets (Director's Cut)", 2030)
    assert (rows[3].title, rows[3].year, rows[3].signals) == ("Untitled Harbour Project", None, {})


def test_letterboxd_our_shell() -> None:
    shell = (OUR_PAGES / "letterboxd_popular_shell.html").read_text()
    parser = PARSERS["letterboxd_popular"]
    with pytest.raises(GridLoadedElsewhere) as caught:
        parser.parse(shell, base_url="https://letterboxd.com/films/popular/this/week/")
    assert caught.value.ajax_url == (
        "https://letterboxd.com/films/ajax/popular/this/week/?esiAllowFilters=true"
    )


@pytest.mark.parametrize("source", sorted(OUR_PAGE))
@pytest.mark.parametrize("page", ["", "<html><body></body></html>", b"\x00\xff"])
def test_empty_page_is_a_layout_error(source: str, page: str | bytes) -> None:
    with pytest.raises(LayoutError, match=f"^{source}: no chart items"):
        parse(source, page)


@pytest.mark.parametrize("source", sorted(OUR_PAGE))
def test_our_page_with_row_marker_renamed_is_a_layout_error(source: str) -> None:
    changed = our_page(source).replace(ROW_MARKERS[source], "x-renamed-by-redesign")
    with pytest.raises(LayoutError, match=source) as caught:
        parse(source, changed)
    assert not isinstance(caught.value, GridLoadedElsewhere)


# A row that lost a required part makes the whole chart a LayoutError, never a short chart.
HALF_ROWS: dict[str, Callable[[str], str]] = {
    "boxofficemojo_daily": lambda page: page.replace(">Paper Comets</a>", "></a>"),
    "imdb_moviemeter": lambda page: page.replace("ipc-title__text", "ipc-title__gone", 1),
    "rottentomatoes_browse": lambda page: page.replace(
        '"discovery-media-list-item-title"', '"x-title"', 1
    ),
    "letterboxd_popular": lambda page: page.replace("data-item-name=", "data-x=", 1),
}


@pytest.mark.parametrize("source", sorted(HALF_ROWS))
def test_row_missing_its_title_is_a_layout_error(source: str) -> None:
    with pytest.raises(LayoutError, match=f"^{source}: .*(title|name)"):
        parse(source, HALF_ROWS[source](our_page(source)))


def test_row_failing_entry_checks_is_a_layout_error() -> None:
    page = our_page("letterboxd_popular").replace("(2029)", "(1066)")
    with pytest.raises(LayoutError, match=r"^letterboxd_popular: a chart row is not valid: year"):
        parse("letterboxd_popular", page)


def test_boxofficemojo_without_header_row_is_a_layout_error() -> None:
    page = our_page("boxofficemojo_daily").replace("<th", "<td").replace("</th>", "</td>")
    with pytest.raises(LayoutError, match="header"):
        parse("boxofficemojo_daily", page)


def test_entry_rejects_string_signals_and_relative_urls() -> None:
    with pytest.raises(ValueError, match="signals"):
        ChartEntry(rank=1, title="A", media_type="movie", signals={"gross_usd": "1,234"})
    with pytest.raises(ValueError, match="absolute"):
        ChartEntry(rank=1, title="A", media_type="movie", url="/film/a/")


# --- properties -------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", "-", "+"]))
def test_money_round_trips(amount: int, sign: str) -> None:
    expected = -float(amount) if sign == "-" else float(amount)
    assert parse_money(f"{sign}${amount:,}") == expected
    assert parse_int(f"{amount:,}") == amount


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_percent_round_trips(tenths: int) -> None:
    value = tenths / 10
    assert parse_percent(f"{value:+,.1f}%") == value
    assert parse_percent(f"{value:,.1f}%") == value


@given(st.text(max_size=20))
def test_number_readers_never_crash(text: str) -> None:
    for read in (parse_money, parse_percent, parse_count):
        value = read(text)
        assert value is None or isinstance(value, float)


@given(st.text(max_size=200))
@pytest.mark.parametrize("source", sorted(PARSERS))
def test_parsing_never_returns_an_empty_chart(source: str, page: str) -> None:
    try:
        entries = parse(source, page)
    except LayoutError:
        return
    assert entries


TITLE_TEXT = st.text(
    alphabet=st.sampled_from("abcXYZ019 :'&!,.-é"), min_size=1, max_size=30
).filter(lambda title: title.strip())


@given(st.lists(st.tuples(TITLE_TEXT, st.none() | st.integers(1870, 2100)), min_size=1))
def test_letterboxd_titles_and_years_round_trip(films: list[tuple[str, int | None]]) -> None:
    items = "".join(
        f'<li class="posteritem"><div data-item-name="'
        f'{html.escape(title if year is None else f"{title} ({year})")}"'
        f' data-item-link="/film/f{i}/"></div></li>'
        for i, (title, year) in enumerate(films)
    )
    entries = parse("letterboxd_popular", f"<ul>{items}</ul>")
    assert [(e.title, e.year) for e in entries] == [(t.strip(), y) for t, y in films]
    assert split_title_year("Film (2025)") == ("Film", 2025)


# --- the CLI (as ``trending scrape parse``) -----------------------------------------------


def test_cli_prints_one_titles_raw_event_per_row(tmp_path: Path) -> None:
    page = tmp_path / "chart.html"
    page.write_bytes((OUR_PAGES / OUR_PAGE["imdb_moviemeter"]).read_bytes())
    os.utime(page, (1_900_000_000, 1_900_000_000))
    result = CliRunner().invoke(app, ["scrape", "parse", "--source", "imdb_moviemeter", str(page)])
    assert result.exit_code == 0, result.output
    events = [TitleObserved.model_validate(json.loads(line)) for line in result.stdout.splitlines()]
    assert [event.observation.rank for event in events] == [1, 2, 3]
    first = events[0]
    observed_at = datetime.fromtimestamp(1_900_000_000, tz=UTC)
    assert first.observed_at == observed_at
    assert (first.title.name, first.title.year) == ("The Glass Orchard", 2029)
    assert first.title_id == make_title_id(media_type="movie", title="The Glass Orchard", year=2029)
    assert first.event_id == derive_event_id(
        "imdb_moviemeter", first.title_id, observed_at.isoformat(), "1"
    )
    assert first.observation.source == "imdb_moviemeter"
    assert first.observation.url == "https://www.imdb.com/title/tt9000001/"
    assert first.observation.signals["rank_change"] == 7.0
    digest = hashlib.sha256(page.read_bytes()).hexdigest()[:12]
    assert (first.scraped_by.provider, first.scraped_by.model) == ("html", "imdb_moviemeter")
    assert first.scraped_by.version == digest


def test_cli_unknown_source_exits_2_listing_the_known_ones() -> None:
    page = OUR_PAGES / OUR_PAGE["imdb_moviemeter"]
    result = CliRunner().invoke(app, ["scrape", "parse", "--source", "netflix_top10", str(page)])
    assert result.exit_code == 2
    assert all(name in result.stderr for name in PARSERS)
    assert result.stdout == ""


def test_cli_shell_page_exits_1_naming_the_file_and_the_ajax_url() -> None:
    shell = OUR_PAGES / "letterboxd_popular_shell.html"
    result = CliRunner().invoke(
        app, ["scrape", "parse", "--source", "letterboxd_popular", str(shell)]
    )
    assert result.exit_code == 1
    assert str(shell) in result.stderr
    assert "/films/ajax/popular/this/week/" in result.stderr
    assert result.stdout == ""


def test_cli_broken_page_exits_1_saying_what_is_missing(tmp_path: Path) -> None:
    page = tmp_path / "redesigned.html"
    page.write_text(our_page("rottentomatoes_browse").replace("discovery-media", "x-media"))
    result = CliRunner().invoke(
        app, ["scrape", "parse", "--source", "rottentomatoes_browse", str(page)]
    )
    assert result.exit_code == 1
    assert str(page) in result.stderr
    assert "discovery-media-list-item" in result.stderr
