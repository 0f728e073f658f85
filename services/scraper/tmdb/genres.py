"""TMDb's genre ids and names: list items carry only ids, details carry names.

The ids are TMDb's published, stable constants (``/genre/movie/list`` and
``/genre/tv/list``); keeping them here saves two requests per cycle. A test checks them
against saved API answers.
"""

from __future__ import annotations

from collections.abc import Iterable

from trendkit.contracts import MediaType
from trendkit.taxonomy import map_tmdb_genres

_SHARED = {
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    9648: "Mystery",
    37: "Western",
}
GENRE_NAMES: dict[MediaType, dict[int, str]] = {
    "movie": {
        **_SHARED,
        28: "Action",
        12: "Adventure",
        14: "Fantasy",
        36: "History",
        27: "Horror",
        10402: "Music",
        10749: "Romance",
        878: "Science Fiction",
        10770: "TV Movie",
        53: "Thriller",
        10752: "War",
    },
    "tv": {
        **_SHARED,
        10759: "Action & Adventure",
        10762: "Kids",
        10763: "News",
        10764: "Reality",
        10765: "Sci-Fi & Fantasy",
        10766: "Soap",
        10767: "Talk",
        10768: "War & Politics",
    },
}


def taxonomy_genres(media: MediaType, genre_ids: Iterable[int]) -> list[str]:
    """Map a list item's genre ids onto the project's taxonomy (unknown ids are skipped)."""
    names = GENRE_NAMES[media]
    return map_tmdb_genres(names[i] for i in genre_ids if i in names)
