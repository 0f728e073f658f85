"""The REST api: rankings, titles and their history, time travel, genres, sources, models, drift.

Thin by design: validate, read (the hub for what is live, Postgres for the rest), return.
Every parameter is taken as text and validated here, so a bad one gets a 400 whose JSON
body names it (``{"detail": {"parameter": ..., "message": ...}}``) instead of FastAPI's
422; unknown ids get a 404 of the same shape, an unreachable database a 503.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from bisect import bisect_right
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from services.api import queries
from services.api.hub import Subscription, TrendHub
from services.api.pages import CachedPages, EncodedPage, PageCache, PageResponse, encode_page
from services.api.protocol import MAX_LIMIT
from trendkit.contracts import WINDOWS, MediaType, TrendScored, Window, now_utc
from trendkit.db.database import Database, DatabaseNotOpen
from trendkit.taxonomy import GENRES

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

WHOLE_WINDOW = 1_000_000  # a ``limit`` that takes every title the hub holds
HISTORY_DEFAULT_SPAN = timedelta(days=7)
HISTORY_MAX_LIMIT = 10_000
UNENCODED_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d:?\d\d)$")

# --- bodies and parameters ----------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong, and with which parameter (null when no parameter is at fault)."""

    parameter: str | None
    message: str


class ErrorBody(BaseModel):
    """Body of every 4xx/5xx this api answers itself."""

    detail: ErrorDetail


class TrendsQuery(BaseModel):
    """Query parameters of ``GET /api/trends`` and ``GET /api/trends/at``."""

    window: Window = "day"
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    media_type: MediaType | None = None
    genre: list[str] = Field(default_factory=list)


class HistoryQuery(BaseModel):
    """Query parameters of ``GET /api/titles/{title_id}/history``."""

    window: Window = "day"
    limit: int = Field(default=1000, ge=1, le=HISTORY_MAX_LIMIT)


class TrendsPage(BaseModel):
    """Body of ``GET /api/trends``: one page of a window's titles, best rank first."""

    window: Window
    count: int
    next_cursor: str | None = Field(
        default=None, description="pass as ``cursor`` for the next page; null on the last"
    )
    items: list[TrendScored]


class GenreCount(BaseModel):
    """One genre of the taxonomy and how many titles of the day ranking carry it."""

    name: str
    titles: int


class GenreList(BaseModel):
    """Body of ``GET /api/genres``."""

    window: Window
    genres: list[GenreCount]


class SourceList(BaseModel):
    """Body of ``GET /api/sources``."""

    sources: list[queries.SourceSeen]


class ModelList(BaseModel):
    """Body of ``GET /api/models``."""

    models: list[queries.ModelSummary]


Responses = dict[int | str, dict[str, Any]]
BAD_INPUT: Responses = {
    400: {"model": ErrorBody, "description": "a parameter is invalid (named in the body)"}
}
NO_DATABASE: Responses = {
    503: {"model": ErrorBody, "description": "the database cannot be reached"}
}
NOT_FOUND: Responses = {404: {"model": ErrorBody, "description": "nothing is known under that id"}}


def problem(status: int, parameter: str | None, message: str) -> HTTPException:
    """Return the exception FastAPI turns into ``{"detail": {parameter, message}}``."""
    return HTTPException(status_code=status, detail={"parameter": parameter, "message": message})


def validated(model: type[M], values: dict[str, Any]) -> M:
    """Validate query values, or raise a 400 naming the first parameter at fault."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        parameter = str(first["loc"][0]) if first["loc"] else "query"
        raise problem(400, parameter, f"{parameter}: {first['msg']}") from None


def split_genres(values: list[str] | None) -> list[str]:
    """Accept ``genre`` repeated or comma-separated; blanks mean no filter."""
    return [g.strip() for value in values or [] for g in value.split(",") if g.strip()]


def parse_time(raw: str, parameter: str) -> datetime:
    """Parse an ISO-8601 instant (naive means UTC); a 400 naming ``parameter`` otherwise."""
    # An unencoded "+01:00" in a query string arrives as " 01:00": take it as meant.
    text = UNENCODED_OFFSET.sub(r"\1+\2", raw.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise problem(
            400, parameter, f"{parameter}: not an ISO-8601 time, e.g. 2024-05-01T12:00:00Z"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def from_database(call: Awaitable[T]) -> T:
    """Await a Postgres read; an unreachable database is a 503, not a 500."""
    try:
        return await call
    except (DatabaseNotOpen, OperationalError, InterfaceError, OSError) as error:
        log.warning("database read failed: %s", error)
        raise problem(503, None, "the database is unavailable; try again shortly") from None


# --- pagination and the page cache --------------------------------------------------

RankKey = tuple[int, float, str]


def rank_key(item: TrendScored) -> RankKey:
    """Return the hub's sort key of an item (rank, better score first, then id)."""
    return (item.rank, -item.score, item.title_id)


def encode_cursor(item: TrendScored) -> str:
    """Return an opaque cursor meaning "after this item" (keyset, not offset, so a
    ranking that moves between pages neither repeats nor skips the items around it)."""
    raw = json.dumps([item.rank, item.score, item.title_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> RankKey:
    """Return the sort key a cursor points after, or raise a 400 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, score, title_id = json.loads(raw)
        if not (isinstance(rank, int) and isinstance(score, int | float)):
            raise TypeError
        if not isinstance(title_id, str):
            raise TypeError
    except (binascii.Error, ValueError, TypeError):
        raise problem(400, "cursor", "cursor: not a cursor this api issued") from None
    return (rank, -float(score), title_id)


def trends_page(hub: TrendHub, query: TrendsQuery, cursor: str | None) -> TrendsPage:
    """Return one page of a window's ranking, starting after ``cursor``."""
    after = decode_cursor(cursor) if cursor else None
    media = media_filter(query)
    if after is None:
        ranked = hub.ranking(
            query.window, genres=query.genre, media_types=media, limit=query.limit + 1
        )
    else:
        ranked = hub.ranking(
            query.window, genres=query.genre, media_types=media, limit=WHOLE_WINDOW
        )
        ranked = ranked[bisect_right(ranked, after, key=rank_key) :]
    items = ranked[: query.limit]
    more = len(ranked) > query.limit
    return TrendsPage(
        window=query.window,
        count=len(items),
        next_cursor=encode_cursor(items[-1]) if more and items else None,
        items=items,
    )


# --- reads that combine the hub and Postgres ----------------------------------------


def live_items(hub: TrendHub, title_id: str) -> dict[Window, TrendScored]:
    """Return a title's items in the hub, per window."""
    found: dict[Window, TrendScored] = {}
    for window in WINDOWS:
        for item in hub.ranking(window, limit=WHOLE_WINDOW):
            if item.title_id == title_id:
                found[window] = item
                break
    return found


def genre_counts(hub: TrendHub, window: Window) -> list[GenreCount]:
    """Count, per taxonomy genre, the titles of a window's ranking that carry it."""
    counts = dict.fromkeys((g.casefold() for g in GENRES), 0)
    for item in hub.ranking(window, limit=WHOLE_WINDOW):
        for genre in {g.casefold() for g in item.genres}:
            if genre in counts:
                counts[genre] += 1
    return [GenreCount(name=g, titles=counts[g.casefold()]) for g in GENRES]


def all_live(hub: TrendHub) -> list[TrendScored]:
    """Return every item the hub holds, all windows."""
    return [i for w in WINDOWS for i in hub.ranking(w, limit=WHOLE_WINDOW)]


def trends_query(window: str, limit: str, media_type: str, genre: list[str] | None) -> TrendsQuery:
    """Validate the ranking parameters shared by ``/api/trends`` and ``/api/trends/at``."""
    return validated(
        TrendsQuery,
        {
            "window": window,
            "limit": limit,
            "media_type": media_type or None,
            "genre": split_genres(genre),
        },
    )


# --- routes -------------------------------------------------------------------------

WindowParam = Annotated[str, Query(description="live, day or week")]
LimitParam = Annotated[str, Query(description=f"1 to {MAX_LIMIT}")]
MediaParam = Annotated[str, Query(description="movie, tv, or empty for both")]
GenreParam = Annotated[list[str] | None, Query(description="repeat or comma-separate")]
TRENDS_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, text, schema in (
        ("window", "live, day or week", {"type": "string", "default": "day"}),
        ("limit", f"1 to {MAX_LIMIT}", {"type": "integer", "default": 50}),
        ("media_type", "movie, tv, or empty for both", {"type": "string"}),
        ("genre", "repeat or comma-separate", {"type": "array", "items": {"type": "string"}}),
        ("cursor", "next_cursor of the previous page", {"type": "string"}),
    )
] + [{"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}]
TitleIdParam = Annotated[
    str, Path(description="tmdb:movie:603, tmdb:tv:1396 or title:movie:<16 hex>")
]


def add_rest_api(app: FastAPI, hub: TrendHub, db: Database) -> None:
    """Add the REST routes to ``app``, with cached ``/api/trends`` pages answered up front.

    Call it before adding middleware that should see those answers too (HTTP metrics):
    the middleware added last is the outermost.
    """
    pages = PageCache(hub)
    router = build_rest_router(hub, db, pages)
    app.include_router(router)
    trends = next(r for r in router.routes if getattr(r, "path", None) == "/api/trends")
    app.add_middleware(CachedPages, pages=pages, route=trends)


def build_rest_router(hub: TrendHub, db: Database, pages: PageCache) -> APIRouter:
    """Return the REST routes, serving live rankings from ``hub`` and the rest from ``db``."""
    router = APIRouter(prefix="/api")
    _add_trend_routes(router, hub, db, pages)
    _add_title_routes(router, hub, db)
    _add_catalogue_routes(router, hub, db)
    return router


def _add_trend_routes(router: APIRouter, hub: TrendHub, db: Database, pages: PageCache) -> None:
    @router.get(
        "/trends",
        response_model=TrendsPage,
        tags=["trends"],
        responses={304: {"description": "unchanged since the ETag in If-None-Match"}, **BAD_INPUT},
        openapi_extra={"parameters": TRENDS_PARAMETERS},
    )
    async def list_trends(request: Request) -> Response:
        """Return the current ranking of one window, a page at a time, optionally filtered."""
        # The hottest route: parameters are read from the request here, not declared, so
        # a cache hit costs no per-parameter validation (bench/api_rest.py measures it).
        params = request.query_params

        def make() -> EncodedPage:
            query = trends_query(
                params.get("window", "day"),
                params.get("limit", "50"),
                params.get("media_type", ""),
                params.getlist("genre"),
            )
            return encode_page(trends_page(hub, query, params.get("cursor") or None))

        page = pages.lookup(request.scope["query_string"], make)
        headers = request.headers
        return PageResponse(page, headers.get("if-none-match"), headers.get("accept-encoding"))

    @router.get(
        "/trends/at",
        response_model=queries.TrendsAt,
        tags=["trends"],
        responses={**BAD_INPUT, **NO_DATABASE},
    )
    async def trends_at(
        time: Annotated[str, Query(description="ISO-8601 instant in the past")] = "",
        window: WindowParam = "day",
        limit: LimitParam = "50",
        media_type: MediaParam = "",
        genre: GenreParam = None,
    ) -> queries.TrendsAt:
        """Return a window's ranking as it stood at ``time`` (from the score history)."""
        query = trends_query(window, limit, media_type, genre)
        if not time:
            raise problem(400, "time", "time: required, an ISO-8601 instant")
        at = parse_time(time, "time")
        if at > now_utc() + timedelta(seconds=1):
            raise problem(400, "time", "time: is in the future; history only goes up to now")
        sub = Subscription(query.window, frozenset(query.genre), frozenset(media_filter(query)))
        keep = sub.matches if query.genre or query.media_type else None
        items = await from_database(
            queries.ranking_at(db, query.window, at, keep=keep, limit=query.limit)
        )
        return queries.TrendsAt(window=query.window, at=at, count=len(items), items=items)


def media_filter(query: TrendsQuery) -> list[MediaType]:
    """Return the media types a query keeps (empty: all)."""
    return [query.media_type] if query.media_type else []


def _add_title_routes(router: APIRouter, hub: TrendHub, db: Database) -> None:

    @router.get(
        "/titles/{title_id}",
        response_model=queries.TitleDetail,
        tags=["titles"],
        responses={**NOT_FOUND, **NO_DATABASE},
    )
    async def title_detail(title_id: TitleIdParam) -> queries.TitleDetail:
        """Return what is known of one title: catalogue, enrichment, genres, scores."""
        rows = await from_database(queries.read_title(db, title_id))
        detail = queries.title_detail(title_id, rows, live_items(hub, title_id))
        if detail is None:
            raise problem(404, "title_id", f"no title {title_id!r} is known to this api")
        return detail

    @router.get(
        "/titles/{title_id}/history",
        response_model=queries.TitleHistory,
        tags=["titles"],
        responses={**BAD_INPUT, **NOT_FOUND, **NO_DATABASE},
    )
    async def title_history(
        title_id: TitleIdParam,
        window: WindowParam = "day",
        since: Annotated[str, Query(description="ISO-8601; default 7 days ago")] = "",
        limit: Annotated[str, Query(description=f"1 to {HISTORY_MAX_LIMIT}")] = "1000",
    ) -> queries.TitleHistory:
        """Return a title's published scores in one window, oldest first (newest ``limit``)."""
        query = validated(HistoryQuery, {"window": window, "limit": limit})
        start = parse_time(since, "since") if since else now_utc() - HISTORY_DEFAULT_SPAN
        if not await from_database(queries.title_known(db, title_id)):
            raise problem(404, "title_id", f"no title {title_id!r} is known to this api")
        points = await from_database(
            queries.read_history(db, title_id, query.window, since=start, limit=query.limit)
        )
        return queries.TitleHistory(title_id=title_id, window=query.window, points=points)


def _add_catalogue_routes(router: APIRouter, hub: TrendHub, db: Database) -> None:
    @router.get("/genres", response_model=GenreList, tags=["catalogue"])
    async def list_genres() -> GenreList:
        """Return the genre taxonomy, with how many titles of the day ranking carry each."""
        return GenreList(window="day", genres=genre_counts(hub, "day"))

    @router.get("/sources", response_model=SourceList, tags=["catalogue"], responses=NO_DATABASE)
    async def list_sources() -> SourceList:
        """Return the sources seen in observations or feeding current scores."""
        observed = await from_database(queries.observed_sources(db))
        return SourceList(sources=queries.source_list(observed, all_live(hub)))

    @router.get("/models", response_model=ModelList, tags=["models"], responses=NO_DATABASE)
    async def list_models() -> ModelList:
        """Return the genre-model registry, newest first, with headline metrics."""
        return ModelList(models=await from_database(queries.registry_models(db)))

    @router.get(
        "/drift/latest",
        response_model=queries.DriftReportOut,
        tags=["models"],
        responses={404: {"model": ErrorBody, "description": "no drift run yet"}, **NO_DATABASE},
    )
    async def drift_latest() -> queries.DriftReportOut:
        """Return the latest drift report."""
        report = await from_database(queries.latest_drift(db))
        if report is None:
            raise problem(404, None, "no drift report yet: the drift service has not run")
        return report
