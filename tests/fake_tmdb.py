"""A fake TMDb API v3 for tests: a few fictional titles, real body shapes, switchable faults.

Bodies follow the real ones (``page``/``results``/``total_pages``/``total_results``; movies
carry ``title``/``release_date``, shows ``name``/``first_air_date``; trending/all mixes in a
person). Tests flip faults with :meth:`FakeTmdb.fail_next` and :meth:`FakeTmdb.hang_next`
and read :attr:`FakeTmdb.requests` (per path) to see what the client asked for.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

TOKEN = "fake-tmdb-token"

GENRES = {
    "movie": [
        {"id": 28, "name": "Action"},
        {"id": 35, "name": "Comedy"},
        {"id": 18, "name": "Drama"},
        {"id": 878, "name": "Science Fiction"},
        {"id": 10770, "name": "TV Movie"},
    ],
    "tv": [
        {"id": 10759, "name": "Action & Adventure"},
        {"id": 18, "name": "Drama"},
        {"id": 10765, "name": "Sci-Fi & Fantasy"},
    ],
}

MOVIES: list[dict[str, Any]] = [
    {"id": 9101, "title": "Harbour of Glass", "release_date": "2024-11-08", "genre_ids": [18],
     "overview": "A lighthouse keeper finds letters from a stranger.", "popularity": 812.5,
     "vote_average": 7.4, "vote_count": 1320, "poster_path": "/harbour.jpg"},
    {"id": 9102, "title": "Orbit Street", "release_date": "2025-02-14", "genre_ids": [878, 28],
     "overview": "Couriers race satellites across a crowded sky.", "popularity": 640.0,
     "vote_average": 6.9, "vote_count": 410, "poster_path": "/orbit.jpg"},
    {"id": 9103, "title": "The Quiet Bakery", "release_date": "", "genre_ids": [35],
     "overview": "", "popularity": 95.25, "vote_average": 0, "vote_count": 0,
     "poster_path": None},
]  # fmt: skip

SHOWS: list[dict[str, Any]] = [
    {"id": 7201, "name": "Northern Signal", "first_air_date": "2023-09-30",
     "genre_ids": [18, 10765], "overview": "A radio station hears tomorrow's news.",
     "popularity": 455.1, "vote_average": 8.1, "vote_count": 2210,
     "poster_path": "/signal.jpg", "origin_country": ["CA"]},
    {"id": 7202, "name": "Ledger", "first_air_date": "2025-01-05", "genre_ids": [10759],
     "overview": "Forensic accountants chase a missing fortune.", "popularity": 301.0,
     "vote_average": 7.0, "vote_count": 88, "poster_path": "/ledger.jpg",
     "origin_country": ["GB"]},
]  # fmt: skip

PERSON: dict[str, Any] = {
    "adult": False, "id": 5501, "name": "Mara Quell", "original_name": "Mara Quell",
    "media_type": "person", "popularity": 120.0, "gender": 1,
    "known_for_department": "Acting", "profile_path": "/mara.jpg", "known_for": [],
}  # fmt: skip

DETAIL_OVERVIEW = "{overview} (Full synopsis from the details endpoint.)"


def list_item(raw: dict[str, Any], media: str, *, with_media_type: bool) -> dict[str, Any]:
    """Shape one authored title like a TMDb list result."""
    item = {"adult": False, "backdrop_path": None, "original_language": "en", **raw}
    if media == "movie":
        item |= {"original_title": raw["title"], "video": False}
    else:
        item |= {"original_name": raw["name"]}
    if with_media_type:
        item["media_type"] = media
    return item


def details_body(raw: dict[str, Any], media: str) -> dict[str, Any]:
    """Shape one authored title like a ``/movie/{id}`` or ``/tv/{id}`` body."""
    by_id = {g["id"]: g for g in GENRES[media]}
    body = list_item(raw, media, with_media_type=False)
    del body["genre_ids"]
    overview = raw["overview"]
    body |= {
        "genres": [by_id[i] for i in raw["genre_ids"] if i in by_id],
        "overview": DETAIL_OVERVIEW.format(overview=overview) if overview else "",
        "tagline": "",
        "status": "Released",
        "homepage": "",
        "production_companies": [],
    }
    return body


class FakeTmdb:
    """State and switches of one fake TMDb; ``app`` serves it."""

    def __init__(self, *, page_size: int = 2, token: str = TOKEN) -> None:
        self.page_size = page_size
        self.token = token
        self.requests: Counter[str] = Counter()
        self._failures: list[tuple[int, str | None]] = []
        self._hangs: list[float] = []
        self.app = self._build_app()

    def fail_next(self, times: int, status: int, *, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and a Retry-After header)."""
        self._failures.extend([(status, retry_after)] * times)

    def hang_next(self, times: int, seconds: float) -> None:
        """Delay the next ``times`` requests by ``seconds`` before answering."""
        self._hangs.extend([seconds] * times)

    def details_requests(self) -> int:
        """Count the requests made to details endpoints."""
        return sum(n for path, n in self.requests.items() if path.split("/")[-1].isdigit())

    def _lists(self) -> dict[str, list[dict[str, Any]]]:
        movies = [list_item(m, "movie", with_media_type=True) for m in MOVIES]
        shows = [list_item(s, "tv", with_media_type=True) for s in SHOWS]
        mixed = [movies[0], dict(PERSON), shows[0], movies[1], shows[1], movies[2]]
        return {
            "/trending/all/day": mixed,
            "/trending/all/week": [shows[1], movies[1], movies[0], PERSON, shows[0]],
            "/trending/movie/day": movies,
            "/trending/movie/week": movies[::-1],
            "/trending/tv/day": shows,
            "/trending/tv/week": shows[::-1],
            "/movie/popular": [list_item(m, "movie", with_media_type=False) for m in MOVIES],
            "/tv/popular": [list_item(s, "tv", with_media_type=False) for s in SHOWS],
        }

    def _page(self, path: str, page: int) -> dict[str, Any]:
        results = self._lists()[path]
        total_pages = max(1, math.ceil(len(results) / self.page_size))
        start = (page - 1) * self.page_size
        return {
            "page": page,
            "results": results[start : start + self.page_size],
            "total_pages": total_pages,
            "total_results": len(results),
        }

    async def _gate(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        self.requests[request.url.path] += 1
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse(
                {
                    "status_code": 7,
                    "status_message": "Invalid API key: You must be granted a valid key.",
                    "success": False,
                },
                status_code=401,
            )
        if self._hangs:
            await asyncio.sleep(self._hangs.pop(0))
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after is not None else None
            return JSONResponse({"status_code": 25, "success": False}, status, headers=headers)
        return await call_next(request)

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.middleware("http")(self._gate)
        movies = {m["id"]: m for m in MOVIES}
        shows = {s["id"]: s for s in SHOWS}

        @app.get("/trending/{media}/{window}")
        async def trending(media: str, window: str, page: int = 1) -> Response:
            path = f"/trending/{media}/{window}"
            if path not in self._lists():
                return _not_found()
            return JSONResponse(self._page(path, page))

        @app.get("/movie/popular")
        async def popular_movies(page: int = 1) -> dict[str, Any]:
            return self._page("/movie/popular", page)

        @app.get("/tv/popular")
        async def popular_tv(page: int = 1) -> dict[str, Any]:
            return self._page("/tv/popular", page)

        @app.get("/movie/{tmdb_id}")
        async def movie(tmdb_id: int) -> Response:
            raw = movies.get(tmdb_id)
            return JSONResponse(details_body(raw, "movie")) if raw else _not_found()

        @app.get("/tv/{tmdb_id}")
        async def tv(tmdb_id: int) -> Response:
            raw = shows.get(tmdb_id)
            return JSONResponse(details_body(raw, "tv")) if raw else _not_found()

        @app.get("/genre/{media}/list")
        async def genres(media: str) -> Response:
            return JSONResponse({"genres": GENRES[media]}) if media in GENRES else _not_found()

        return app


def _not_found() -> JSONResponse:
    return JSONResponse(
        {
            "success": False,
            "status_code": 34,
            "status_message": "The resource you requested could not be found.",
        },
        status_code=404,
    )
