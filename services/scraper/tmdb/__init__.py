"""TMDb: the API client (retries, rate limit, details cache) and the source built on it."""

from services.scraper.tmdb.client import (
    DetailsCache,
    RedisDetailsCache,
    TmdbAuthError,
    TmdbClient,
    TmdbDetails,
    TmdbError,
    TmdbGenre,
    TmdbTitle,
)
from services.scraper.tmdb.ratelimit import TokenBucket
from services.scraper.tmdb.source import DEFAULT_LISTS, TmdbSource, source_name

__all__ = [
    "DEFAULT_LISTS",
    "DetailsCache",
    "RedisDetailsCache",
    "TmdbAuthError",
    "TmdbClient",
    "TmdbDetails",
    "TmdbError",
    "TmdbGenre",
    "TmdbSource",
    "TmdbTitle",
    "TokenBucket",
    "source_name",
]
