"""TMDb models against real response bodies, and the source's observations (in-process HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.scraper.tmdb.client import TmdbClient, TmdbGenre, parse_details, parse_page
from services.scraper.tmdb.genres import GENRE_NAMES, taxonomy_genres
from services.scraper.tmdb.source import TmdbSource, build_observation, source_name
from tests.fake_tmdb import DETAIL_OVERVIEW, MOVIES, SHOWS, TOKEN, FakeTmdb
from trendkit.contracts import TitleObserved, make_title_id
from trendkit.taxonomy import map_tmdb_genres

TMDB_DATA = Path("/work/shared/data/tmdb")
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BASE = "http://tmdb.test"


def real_body(name: str) -> dict[str, Any]:
    """Load one real TMDb response body, skipping the test when the data set is absent."""
    path = TMDB_DATA / name
    if not path.exists():
        pytest.skip(f"real TMDb bodies not available: {path} is absent")
    body: dict[str, Any] = json.loads(path.read_text())
    return body


@asynccontextmanager
async def fake_client(fake: FakeTmdb) -> AsyncIterator[TmdbClient]:
    """Yield a client talking to the fake in-process (the integration tests use real HTTP)."""
    transport = httpx.ASGITransport(app=fake.app)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        TmdbClient(BASE, TOKEN, http=http) as client,
    ):
        yield client


# --- real bodies parse --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media", "count"),
    [
        ("trending_movies.json", None, 20),
        ("trending_tv.json", None, 20),
        ("movie_lists_popular.json", "movie", 20),
        ("tv_series_lists_popular.json", "tv", 20),
    ],
)
def test_real_list_bodies_parse_into_titles(name: str, media: Any, count: int) -> None:
    items = parse_page(real_body(name), media)
    assert len(items) == count
    for item in items:
        assert item.id >= 1
        assert item.display_name
        assert item.media_type in ("movie", "tv")
        assert item.year is None or 1870 <= item.year <= 2100
    assert any(item.poster_path for item in items)


def test_real_trending_all_skips_the_person() -> None:
    items = parse_page(real_body("trending_all.json"))
    assert [(i.media_type, i.id, i.display_name) for i in items] == [
        ("movie", 934433, "Scream VI"),
        ("tv", 103768, "Sweet Tooth"),
    ]
    assert items[0].year == 2023
    assert items[1].year == 2021
    assert items[0].genre_ids == [27, 9648, 53]


def test_real_popular_movies_get_their_media_type_from_the_endpoint() -> None:
    items = parse_page(real_body("movie_lists_popular.json"), "movie")
    first = items[0]
    assert first.media_type == "movie"
    assert first.display_name == "Ant-Man and the Wasp: Quantumania"
    assert first.vote_count > 0
    assert first.popularity == pytest.approx(8567.865)


def test_real_details_bodies_parse() -> None:
    movie = parse_details(real_body("movies_details.json"), "movie")
    assert (movie.id, movie.display_name, movie.year) == (550, "Fight Club", 1999)
    assert "Drama" in [g.name for g in movie.genres]
    tv = parse_details(real_body("tv_series_details.json"), "tv")
    assert (tv.id, tv.display_name, tv.media_type) == (1399, "Game of Thrones", "tv")
    assert tv.overview
    assert "Sci-Fi & Fantasy" in [g.name for g in tv.genres]


def test_real_genre_lists_map_onto_the_taxonomy() -> None:
    for name in ("genre_movie_list.json", "genre_tv_list.json"):
        genres = [TmdbGenre.model_validate(g) for g in real_body(name)["genres"]]
        assert map_tmdb_genres(g.name for g in genres)


def test_our_genre_ids_are_tmdbs() -> None:
    for media, name in (("movie", "genre_movie_list.json"), ("tv", "genre_tv_list.json")):
        listed = {g["id"]: g["name"] for g in real_body(name)["genres"]}
        assert GENRE_NAMES[media] == listed  # type: ignore[index]


def test_list_items_carry_their_genres_onto_the_taxonomy() -> None:
    shows = parse_page(real_body("tv_series_lists_popular.json"), "tv")
    events = [
        build_observation(item, source="tmdb_popular_tv", rank=r, observed_at=AT)
        for r, item in enumerate(shows, start=1)
    ]
    for item, event in zip(shows, events, strict=True):
        assert event is not None
        assert event.title.genres == taxonomy_genres("tv", item.genre_ids)
    assert any("Science Fiction" in e.title.genres for e in events if e)


def test_real_bodies_become_valid_observations() -> None:
    movies = parse_page(real_body("movie_lists_popular.json"), "movie")
    events = [
        build_observation(item, source="tmdb_popular_movie", rank=r, observed_at=AT)
        for r, item in enumerate(movies, start=1)
    ]
    assert all(e is not None for e in events)
    for event in events:
        assert event is not None
        assert TitleObserved.model_validate_json(event.model_dump_json()) == event


# --- the source ---------------------------------------------------------------------


async def test_source_observes_each_list_with_ranks_ids_and_signals() -> None:
    fake = FakeTmdb(page_size=2)
    async with fake_client(fake) as client:
        events = await TmdbSource(client, pages=5).observe(AT)

    by_source: dict[str, list[TitleObserved]] = {}
    for event in events:
        by_source.setdefault(event.observation.source, []).append(event)
    assert list(by_source) == [
        "tmdb_trending_day",
        "tmdb_trending_week",
        "tmdb_popular_movie",
        "tmdb_popular_tv",
    ]
    day = by_source["tmdb_trending_day"]
    # the person is skipped and does not take a rank
    assert [e.title_id for e in day] == [
        "tmdb:movie:9101",
        "tmdb:tv:7201",
        "tmdb:movie:9102",
        "tmdb:tv:7202",
        "tmdb:movie:9103",
    ]
    for source_events in by_source.values():
        assert [e.observation.rank for e in source_events] == list(range(1, len(source_events) + 1))
    assert len(by_source["tmdb_popular_movie"]) == len(MOVIES)
    assert len(by_source["tmdb_popular_tv"]) == len(SHOWS)
    assert len({e.event_id for e in events}) == len(events)
    for event in events:
        assert TitleObserved.model_validate_json(event.model_dump_json()) == event
        assert event.scraped_by.provider == "tmdb"
        assert set(event.observation.signals) == {"popularity", "vote_average", "vote_count"}


async def test_source_fills_title_info_from_list_and_details() -> None:
    fake = FakeTmdb(page_size=10)
    async with fake_client(fake) as client:
        events = await TmdbSource(client, lists=[("popular", "movie", None)]).observe(AT)
    first, _, bakery = events
    assert first.title_id == make_title_id(media_type="movie", tmdb_id=9101)
    assert first.title.name == "Harbour of Glass"
    assert first.title.year == 2024
    assert first.title.tmdb_id == 9101
    assert first.title.overview == DETAIL_OVERVIEW.format(overview=MOVIES[0]["overview"])
    assert first.title.poster_url == "https://image.tmdb.org/t/p/w342/harbour.jpg"
    assert first.title.genres == ["Drama"]  # from the details' genre objects
    assert first.observation.signals == {
        "popularity": 812.5,
        "vote_average": 7.4,
        "vote_count": 1320.0,
    }
    # no date, no overview, no poster: still a valid observation
    assert (bakery.title.year, bakery.title.overview, bakery.title.poster_url) == (None, "", None)


async def test_without_details_the_overview_comes_from_the_list() -> None:
    fake = FakeTmdb(page_size=10)
    async with fake_client(fake) as client:
        source = TmdbSource(client, lists=[("trending", "tv", "day")], with_details=False)
        events = await source.observe(AT)
    assert [e.observation.source for e in events] == ["tmdb_trending_tv_day"] * 2
    assert events[0].title.overview == SHOWS[0]["overview"]
    assert fake.details_requests() == 0


async def test_details_are_fetched_once_per_title_across_lists() -> None:
    fake = FakeTmdb(page_size=10)
    async with fake_client(fake) as client:
        await TmdbSource(client).observe(AT)
    assert fake.details_requests() == len(MOVIES) + len(SHOWS)
    assert max(n for p, n in fake.requests.items() if p.split("/")[-1].isdigit()) == 1


async def test_event_ids_are_deterministic() -> None:
    fake = FakeTmdb()
    async with fake_client(fake) as client:
        first = await TmdbSource(client, pages=3).observe(AT)
        again = await TmdbSource(client, pages=3).observe(AT)
    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_list_specs_are_named_and_checked() -> None:
    assert source_name(("trending", "all", "week")) == "tmdb_trending_week"
    assert source_name(("trending", "movie", "day")) == "tmdb_trending_movie_day"
    assert source_name(("popular", "tv", None)) == "tmdb_popular_tv"
    with pytest.raises(ValueError, match="unknown TMDb list"):
        source_name(("popular", "all", None))
