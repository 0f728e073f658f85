"""Turn TMDb's trending and popular lists into ``titles.raw`` observations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.scraper.tmdb.client import (
    TmdbClient,
    TmdbDetails,
    TmdbError,
    TmdbTitle,
    TrendingMedia,
    TrendingWindow,
)
from services.scraper.tmdb.genres import taxonomy_genres
from trendkit.contracts import (
    MediaType,
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    make_title_id,
)
from trendkit.taxonomy import map_tmdb_genres

log = logging.getLogger(__name__)

ListSpec = tuple[str, str, str | None]
"""``("trending", "all"|"movie"|"tv", "day"|"week")`` or ``("popular", "movie"|"tv", None)``."""

DEFAULT_LISTS: tuple[ListSpec, ...] = (
    ("trending", "all", "day"),
    ("trending", "all", "week"),
    ("popular", "movie", None),
    ("popular", "tv", None),
)
POSTER_BASE_URL = "https://image.tmdb.org/t/p/w342"
SCRAPED_BY = Provenance(provider="tmdb", model="api-v3", version="1")
# str -> Literal lookups: the list specs were validated by source_name() already.
_TRENDING_MEDIA: dict[str, TrendingMedia] = {"all": "all", "movie": "movie", "tv": "tv"}
_WINDOWS: dict[str, TrendingWindow] = {"day": "day", "week": "week"}
_MEDIA: dict[str, MediaType] = {"movie": "movie", "tv": "tv"}
_NAME_MAX, _OVERVIEW_MAX, _YEARS = 500, 5000, range(1870, 2101)  # TitleInfo's limits


def source_name(spec: ListSpec) -> str:
    """Name the observation source of one list: ``tmdb_trending_day``, ``tmdb_popular_tv``…"""
    kind, media, window = spec
    if kind == "trending" and media in ("all", "movie", "tv") and window in ("day", "week"):
        return f"tmdb_trending_{window}" if media == "all" else f"tmdb_trending_{media}_{window}"
    if kind == "popular" and media in ("movie", "tv") and window is None:
        return f"tmdb_popular_{media}"
    raise ValueError(f"unknown TMDb list {spec!r}")


class TmdbSource:
    """Observe TMDb's lists: one observation per title per list, ranked by position."""

    def __init__(
        self,
        client: TmdbClient,
        *,
        lists: Sequence[ListSpec] = DEFAULT_LISTS,
        pages: int = 1,
        with_details: bool = True,
        details_concurrency: int = 8,
    ) -> None:
        self.client = client
        self.lists = tuple(lists)
        self.names = [source_name(spec) for spec in self.lists]  # fail fast on a typo
        self.pages = pages
        self.with_details = with_details
        self._details_slots = asyncio.Semaphore(details_concurrency)

    async def observe(self, observed_at: datetime) -> list[TitleObserved]:
        """Fetch every list (and details) and return what was seen, list by list, in rank order."""
        fetched = [await self._fetch(spec) for spec in self.lists]
        details = await self._details(item for items in fetched for item in items)
        events: list[TitleObserved] = []
        for name, items in zip(self.names, fetched, strict=True):
            for rank, item in enumerate(_unique(items), start=1):
                found = details.get((item.media_type, item.id))
                event = build_observation(
                    item, source=name, rank=rank, observed_at=observed_at, details=found
                )
                if event is not None:
                    events.append(event)
        return events

    async def _fetch(self, spec: ListSpec) -> list[TmdbTitle]:
        kind, media, window = spec
        if kind == "trending":
            trending_media, trending_window = _TRENDING_MEDIA[media], _WINDOWS[str(window)]
            return await self.client.trending(trending_media, trending_window, pages=self.pages)
        return await self.client.popular(_MEDIA[media], pages=self.pages)

    async def _details(
        self, items: Iterable[TmdbTitle]
    ) -> dict[tuple[MediaType, int], TmdbDetails]:
        if not self.with_details:
            return {}
        wanted = list(dict.fromkeys((item.media_type, item.id) for item in items))
        found = await asyncio.gather(*(self._one_details(media, i) for media, i in wanted))
        return {key: d for key, d in zip(wanted, found, strict=True) if d is not None}

    async def _one_details(self, media: MediaType, tmdb_id: int) -> TmdbDetails | None:
        async with self._details_slots:
            try:
                return await self.client.details(media, tmdb_id)
            except TmdbError as exc:
                if exc.status != 404:
                    raise
                # Listed yet gone (deleted or merged): the list item alone still says enough.
                log.warning("TMDb has no details for %s %d; using the list item", media, tmdb_id)
                return None


def _unique(items: Iterable[TmdbTitle]) -> list[TmdbTitle]:
    # Lists shift while we page through them, so a title can show up on two pages: keep the
    # higher rank rather than observe one title twice on one source.
    seen: set[tuple[str, int]] = set()
    out: list[TmdbTitle] = []
    for item in items:
        if (item.media_type, item.id) not in seen:
            seen.add((item.media_type, item.id))
            out.append(item)
    return out


def build_observation(
    item: TmdbTitle,
    *,
    source: str,
    rank: int,
    observed_at: datetime,
    details: TmdbDetails | None = None,
) -> TitleObserved | None:
    """Build the ``titles.raw`` event for one list item; None when it has no usable name."""
    name = item.display_name or (details.display_name if details else "")
    if not name:
        log.warning("skipping nameless TMDb %s %d on %s", item.media_type, item.id, source)
        return None
    title_id = make_title_id(media_type=item.media_type, tmdb_id=item.id)
    year = item.year or (details.year if details else None)
    overview = (details.overview if details and details.overview else item.overview).strip()
    poster = item.poster_path or (details.poster_path if details else None)
    return TitleObserved(
        event_id=derive_event_id(source, title_id, observed_at.isoformat(), str(rank)),
        title_id=title_id,
        observed_at=observed_at,
        title=TitleInfo(
            name=name[:_NAME_MAX],
            media_type=item.media_type,
            year=year if year in _YEARS else None,
            overview=overview[:_OVERVIEW_MAX],
            tmdb_id=item.id,
            poster_url=f"{POSTER_BASE_URL}{poster}" if poster else None,
            genres=(
                map_tmdb_genres(g.name for g in details.genres)
                if details and details.genres
                else taxonomy_genres(item.media_type, item.genre_ids)
            ),
        ),
        observation=Observation(
            source=source,
            rank=rank,
            url=f"https://www.themoviedb.org/{item.media_type}/{item.id}",
            signals={
                "popularity": float(item.popularity),
                "vote_average": float(item.vote_average),
                "vote_count": float(item.vote_count),
            },
        ),
        scraped_by=SCRAPED_BY,
    )
