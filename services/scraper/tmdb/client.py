"""An async client for the TMDb API v3: typed results, retries, rate limiting, a details cache.

Retries cover what passes on its own (429, 5xx, timeouts, dropped connections) with
exponential backoff and full jitter, honouring ``Retry-After``; any other 4xx fails at once,
because asking again cannot fix a wrong token or a missing title.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Protocol, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.scraper.tmdb.ratelimit import TokenBucket
from trendkit.contracts import MediaType
from trendkit.hotcache import RedisModelCache

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
TrendingMedia = Literal["all", "movie", "tv"]
TrendingWindow = Literal["day", "week"]
Sleep = Callable[[float], Awaitable[None]]

_RETRYABLE_AFTER = frozenset({429, 503})  # statuses whose Retry-After we honour


# --- models -------------------------------------------------------------------------


class TmdbGenre(BaseModel):
    """One TMDb genre: its id and its English name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    name: str


class TmdbTitle(BaseModel):
    """A movie or show as a TMDb list returns it (movies have title/release_date, TV name/…)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int = Field(ge=1)
    media_type: MediaType
    title: str | None = None
    name: str | None = None
    release_date: str | None = None
    first_air_date: str | None = None
    overview: str = ""
    genre_ids: list[int] = Field(default_factory=list)
    popularity: float = 0.0
    vote_average: float = 0.0
    vote_count: int = 0
    poster_path: str | None = None

    @field_validator("overview", mode="before")
    @classmethod
    def _null_overview_is_empty(cls, value: object) -> object:
        return "" if value is None else value

    @property
    def display_name(self) -> str:
        """Return the title's name, whichever field TMDb put it in."""
        first, second = (
            (self.title, self.name) if self.media_type == "movie" else (self.name, self.title)
        )
        return (first or second or "").strip()

    @property
    def year(self) -> int | None:
        """Return the year of release or first airing, when TMDb knows it."""
        date = self.release_date or self.first_air_date or ""
        return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


class TmdbDetails(TmdbTitle):
    """A movie or show as its details endpoint returns it: genres come as objects."""

    genres: list[TmdbGenre] = Field(default_factory=list)
    tagline: str | None = None
    status: str | None = None


def parse_page(body: Mapping[str, Any], media: MediaType | None = None) -> list[TmdbTitle]:
    """Parse the ``results`` of one list page, skipping persons and anything but movies and TV."""
    items: list[TmdbTitle] = []
    for raw in body.get("results") or []:
        kind = raw.get("media_type", media)
        if kind not in ("movie", "tv"):
            continue  # trending/all mixes in people; they are not titles
        items.append(TmdbTitle.model_validate({**raw, "media_type": kind}))
    return items


def parse_details(body: Mapping[str, Any], media: MediaType) -> TmdbDetails:
    """Parse a ``/movie/{id}`` or ``/tv/{id}`` body (which carries no media_type)."""
    return TmdbDetails.model_validate({**body, "media_type": media})


# --- errors -------------------------------------------------------------------------


class TmdbError(Exception):
    """TMDb did not give us what we asked for; ``path`` and ``status`` say where and how."""

    def __init__(self, message: str, *, path: str, status: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.status = status


class TmdbAuthError(TmdbError):
    """TMDb refused the token (401): retrying cannot help, the configuration is wrong."""


# --- details cache ------------------------------------------------------------------


class DetailsCache(Protocol):
    """Where details live between cycles so unchanged titles are not fetched again."""

    async def get(self, media: MediaType, tmdb_id: int) -> TmdbDetails | None:
        """Return the cached details, or None on a miss."""
        ...

    async def put(self, details: TmdbDetails) -> None:
        """Remember the details."""
        ...


class RedisDetailsCache:
    """Details as JSON in Redis under ``{prefix}:{media}:{id}``; Redis trouble is a miss."""

    def __init__(
        self,
        redis_url: str,
        ttl_s: int = 86_400,
        *,
        prefix: str = "tmdb:details",
        socket_timeout_s: float = 2.0,
    ) -> None:
        self._cache = RedisModelCache(
            redis_url,
            TmdbDetails,
            namespace=prefix,
            ttl_s=ttl_s,
            socket_timeout_s=socket_timeout_s,
        )

    def key(self, media: MediaType, tmdb_id: int) -> str:
        """Return the Redis key of one title's details."""
        return self._cache.redis_key(f"{media}:{tmdb_id}")

    async def get(self, media: MediaType, tmdb_id: int) -> TmdbDetails | None:
        """Return the cached details; None on a miss, a Redis error or an unreadable entry."""
        # On a miss (or Redis down) the caller fetches from TMDb: speed lost, never data.
        key = f"{media}:{tmdb_id}"
        return (await self._cache.get_many([key])).get(key)

    async def put(self, details: TmdbDetails) -> None:
        """Store the details for ``ttl_s`` seconds; a Redis error only logs a warning."""
        await self._cache.put_many({f"{details.media_type}:{details.id}": details})

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self._cache.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- the client ---------------------------------------------------------------------


class TmdbClient:
    """Talk to TMDb API v3 with a v4 bearer token; use as ``async with TmdbClient(...)``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str = "",
        *,
        http: httpx.AsyncClient | None = None,
        rate_per_s: float = 40,
        max_retries: int = 5,
        timeout_s: float = 10,
        cache: DetailsCache | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        max_retry_after_s: float = 300.0,
        sleep: Sleep = asyncio.sleep,
        random_source: Callable[[], float] = random.random,
        limiter: TokenBucket | None = None,
        on_body: Callable[[str, bytes], None] | None = None,
    ) -> None:
        if not token:
            raise ValueError("a TMDb API read access token (v4 bearer token) is required")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.cache = cache
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout_s)
        self._limiter = limiter if limiter is not None else TokenBucket(rate_per_s)
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._random = random_source
        # Called with (path, raw body) for every answer, so a cycle can archive the bodies.
        self._on_body = on_body

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client, if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # --- endpoints ------------------------------------------------------------------

    async def trending(
        self, media: TrendingMedia, window: TrendingWindow, pages: int = 1
    ) -> list[TmdbTitle]:
        """Return what trends today or this week (persons skipped), up to ``pages`` pages."""
        default: MediaType | None = None if media == "all" else media
        return await self._paged(f"/trending/{media}/{window}", pages, default)

    async def popular(self, media: MediaType, pages: int = 1) -> list[TmdbTitle]:
        """Return the popular movies or shows, up to ``pages`` pages."""
        return await self._paged(f"/{media}/popular", pages, media)

    async def details(self, media: MediaType, tmdb_id: int) -> TmdbDetails:
        """Return one title's details, from the cache when it has them."""
        if self.cache is not None:
            cached = await self.cache.get(media, tmdb_id)
            if cached is not None:
                return cached
        details = parse_details(await self.get_json(f"/{media}/{tmdb_id}"), media)
        if self.cache is not None:
            await self.cache.put(details)
        return details

    async def genres(self, media: MediaType) -> list[TmdbGenre]:
        """Return TMDb's genre list for movies or TV."""
        body = await self.get_json(f"/genre/{media}/list")
        return [TmdbGenre.model_validate(g) for g in body.get("genres") or []]

    async def _paged(self, path: str, pages: int, media: MediaType | None) -> list[TmdbTitle]:
        items: list[TmdbTitle] = []
        page = 1
        while page <= pages:
            body = await self.get_json(path, {"page": page})
            items.extend(parse_page(body, media))
            if page >= int(body.get("total_pages") or 0):
                break
            page += 1
        return items

    # --- transport ------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a path under the base URL; retry what may pass, raise TmdbError on the rest."""
        last = "no attempt"
        last_status: int | None = None
        for attempt in range(self.max_retries + 1):
            await self._limiter.acquire()
            retry_after: float | None = None
            try:
                response = await self._http.get(
                    f"{self.base_url}{path}",
                    params=dict(params or {}),
                    headers=self._headers,
                    timeout=self.timeout_s,
                )
            except httpx.TimeoutException:
                last, last_status = f"timed out after {self.timeout_s:g} s", None
            except httpx.TransportError as exc:
                last, last_status = f"connection failed: {exc!r}", None
            else:
                status = response.status_code
                if status == 200:
                    if self._on_body is not None:
                        self._on_body(path, response.content)
                    body: dict[str, Any] = response.json()
                    return body
                last, last_status = f"HTTP {status}", status
                self._raise_unless_retryable(path, response)
                if status in _RETRYABLE_AFTER:
                    retry_after = _retry_after_s(response)
            if attempt == self.max_retries:
                break
            delay = self._backoff_s(attempt)
            if retry_after is not None:
                if retry_after > self._max_retry_after_s:
                    raise TmdbError(
                        f"TMDb asked us to wait {retry_after:g} s on {path} ({last}); giving up",
                        path=path,
                        status=last_status,
                    )
                delay = max(delay, retry_after)
            log.info("TMDb %s: %s; retry %d in %.2f s", path, last, attempt + 1, delay)
            await self._sleep(delay)
        raise TmdbError(
            f"TMDb {path} failed after {self.max_retries + 1} attempts; last: {last}",
            path=path,
            status=last_status,
        )

    def _raise_unless_retryable(self, path: str, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            return
        message = _status_message(response)
        if status == 401:
            raise TmdbAuthError(
                f"TMDb rejected the token (HTTP 401 on {path}): the API read access token "
                f"is wrong or revoked. {message}".strip(),
                path=path,
                status=status,
            )
        raise TmdbError(f"TMDb {path}: HTTP {status}. {message}".strip(), path=path, status=status)

    def _backoff_s(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): spreads retries of many clients apart.
        ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2.0**attempt)
        return self._random() * ceiling


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: fall back to our own backoff
    return max(0.0, seconds)


def _status_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("status_message") if isinstance(body, dict) else None
    return str(message) if message else ""
