"""Genre quality of the local MiniLM enricher, beside a plain zero-shot peer and the lexicon.

    python -m bench.enricher_genres [--data ../shared/data/datasets/tmdb_movies.csv] [--limit N]

On the evaluation split of ``tmdb_movies.csv`` (every row whose ``sha1(tmdb_id)`` falls
outside the first 20 %; those 20 % tuned the enricher's decision parameters), three
labellers run in the same process on the same rows:

- the peer: frozen MiniLM zero-shot, the top 2 of one plain sentence per genre
  ("A horror movie."), the usual zero-shot baseline;
- the keyword lexicon (``LexiconEnricher``), the project's no-model baseline;
- ``MiniLMEnricher``, the local provider.

It prints macro-F1 (over the genres present in the rows), micro-F1 and per-genre F1 of
each, the local enricher's titles per second on this machine, and, as the last line, JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from services.enricher.domain import LexiconEnricher
from services.enricher.local import MiniLMEnricher
from trendkit.contracts import (
    Observation,
    Provenance,
    TitleInfo,
    TitleObserved,
    derive_event_id,
    make_title_id,
    now_utc,
)
from trendkit.taxonomy import GENRES, map_tmdb_genres

SHARED_DATA = Path(
    os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)
DEFAULT_DATA = SHARED_DATA / "datasets" / "tmdb_movies.csv"
REQUIRED_COLUMNS = ("tmdb_id", "title", "overview", "genres", "release_date")
TUNING_SHARE = 0.2
PEER_TEMPLATE = "A {genre} movie."
CHUNK = 256  # titles per progress step

Labels = list[str]


class DatasetError(Exception):
    """The dataset file is missing or lacks a column this benchmark needs."""


@dataclass(frozen=True)
class Movie:
    """One labelled row: what the enricher sees, and the genres TMDb gives it."""

    tmdb_id: int
    title: str
    overview: str
    year: int | None
    genres: tuple[str, ...]


@dataclass(frozen=True)
class Scores:
    """F1 figures of one labeller on one set of rows."""

    macro_f1: float
    micro_f1: float
    per_genre: dict[str, float]


def load_movies(path: Path) -> list[Movie]:
    """Read the CSV, mapping TMDb genre names onto the taxonomy (rows left with none drop)."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (set --data or SHARED_DATA)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
        movies = [_movie(row) for row in reader]
    return [m for m in movies if m.genres]


def _movie(row: dict[str, str]) -> Movie:
    year = row["release_date"][:4]
    return Movie(
        tmdb_id=int(row["tmdb_id"]),
        title=row["title"],
        overview=row["overview"],
        year=int(year) if year.isdigit() and 1870 <= int(year) <= 2100 else None,
        genres=tuple(map_tmdb_genres(row["genres"].split("|"))),
    )


def is_tuning(tmdb_id: int) -> bool:
    """Whether a row belongs to the tuning split: the first 20 % of sha1(tmdb_id)."""
    digest = hashlib.sha1(str(tmdb_id).encode()).hexdigest()
    return int(digest[:8], 16) < TUNING_SHARE * 2**32


def evaluation_split(movies: Iterable[Movie]) -> list[Movie]:
    """Return the rows no parameter was tuned on, in file order."""
    return [m for m in movies if not is_tuning(m.tmdb_id)]


def as_observed(movie: Movie) -> TitleObserved:
    """Wrap a row as the event the enricher consumes."""
    return TitleObserved(
        event_id=derive_event_id("bench", "tmdb_movies.csv", str(movie.tmdb_id)),
        title_id=make_title_id(media_type="movie", tmdb_id=movie.tmdb_id),
        observed_at=now_utc(),
        title=TitleInfo(
            name=movie.title[:500],
            media_type="movie",
            year=movie.year,
            overview=movie.overview[:5000],
            tmdb_id=movie.tmdb_id,
        ),
        observation=Observation(source="bench", rank=1),
        scraped_by=Provenance(provider="bench", model="tmdb_movies.csv", version="1"),
    )


def score(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Scores:
    """Macro-F1 over the genres present in ``truth``; micro-F1 over every prediction."""
    present = [g for g in GENRES if any(g in t for t in truth)]
    per_genre: dict[str, float] = {}
    for genre in present:
        tp, fp, fn = _counts(truth, predicted, genre)
        per_genre[genre] = 2 * tp / (2 * tp + fp + fn)
    totals = [_counts(truth, predicted, genre) for genre in GENRES]
    tp, fp, fn = (sum(column) for column in zip(*totals, strict=True))
    micro = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    macro = sum(per_genre.values()) / len(per_genre) if per_genre else 0.0
    return Scores(macro_f1=macro, micro_f1=micro, per_genre=per_genre)


def _counts(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], genre: str
) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for t, p in zip(truth, predicted, strict=True):
        tp += genre in t and genre in p
        fp += genre not in t and genre in p
        fn += genre in t and genre not in p
    return tp, fp, fn


def peer_top2(
    enricher: MiniLMEnricher, movies: Sequence[Movie], quiet: bool = True
) -> list[Labels]:
    """Label rows the usual zero-shot way: the 2 genres whose plain sentence is closest."""
    prototypes = enricher.encode([PEER_TEMPLATE.format(genre=g.lower()) for g in GENRES])
    texts = [f"{m.title}. {m.overview}" for m in movies]
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    steps = chunks if quiet else track(chunks, "peer: encoding", console=Console(stderr=True))
    similarity = np.concatenate([enricher.encode(chunk) for chunk in steps]) @ prototypes.T
    return [[GENRES[i] for i in np.argsort(-row, kind="stable")[:2]] for row in similarity]


def local_genres(
    enricher: MiniLMEnricher, movies: Sequence[Movie], quiet: bool = True
) -> list[Labels]:
    """Label rows with the local enricher, as the service would."""
    events = [as_observed(m) for m in movies]
    chunks = [events[i : i + CHUNK] for i in range(0, len(events), CHUNK)]
    steps = chunks if quiet else track(chunks, "local: enriching", console=Console(stderr=True))
    return [e.genres for chunk in steps for e in enricher.describe(chunk)]


def lexicon_genres(movies: Sequence[Movie]) -> list[Labels]:
    """Label rows with the keyword lexicon."""
    lexicon = LexiconEnricher()
    return [lexicon.describe(as_observed(m)).genres for m in movies]


def _table(truth: Sequence[Sequence[str]], results: dict[str, Scores]) -> Table:
    table = Table(title="Genre F1 on the evaluation split")
    table.add_column("genre")
    table.add_column("rows", justify="right")
    for name in results:
        table.add_column(name, justify="right")
    first = next(iter(results.values()))
    for genre in first.per_genre:
        support = sum(genre in t for t in truth)
        cells = [f"{r.per_genre[genre]:.3f}" for r in results.values()]
        table.add_row(genre, str(support), *cells)
    table.add_section()
    table.add_row("macro-F1", "", *[f"{r.macro_f1:.3f}" for r in results.values()])
    table.add_row("micro-F1", "", *[f"{r.micro_f1:.3f}" for r in results.values()])
    return table


def main(argv: list[str] | None = None) -> int:
    """Run the three labellers on the evaluation split and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="tmdb_movies.csv")
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N rows only")
    options = parser.parse_args(argv)
    try:
        movies = evaluation_split(load_movies(options.data))[: options.limit]
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    truth = [m.genres for m in movies]
    enricher = MiniLMEnricher()
    enricher.load()
    started = time.perf_counter()
    local = score(truth, local_genres(enricher, movies, quiet=False))
    titles_per_s = len(movies) / (time.perf_counter() - started)
    peer = score(truth, peer_top2(enricher, movies, quiet=False))
    lexicon = score(truth, lexicon_genres(movies))
    results = {"peer top-2": peer, "lexicon": lexicon, "MiniLMEnricher": local}
    Console().print(_table(truth, results))
    print(f"MiniLMEnricher: {titles_per_s:.1f} titles/s on {os.cpu_count()} CPU(s)")
    print(
        json.dumps(
            {
                "bench": "enricher_genres",
                "rows": len(movies),
                "macro_f1": round(local.macro_f1, 4),
                "micro_f1": round(local.micro_f1, 4),
                "peer_top2_macro_f1": round(peer.macro_f1, 4),
                "lexicon_macro_f1": round(lexicon.macro_f1, 4),
                "ratio_to_peer": round(local.macro_f1 / peer.macro_f1, 3),
                "titles_per_s": round(titles_per_s, 1),
                "version": enricher.version,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
