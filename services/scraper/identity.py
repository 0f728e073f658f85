"""Identity resolution: give every spelling of a title one ``title_id``, forever.

Rules, in order (:meth:`TitleIndex.resolve`):

1. **tmdb** — a TMDb id is authoritative: ``tmdb:{media}:{id}``. If a hash id
   (``title:…``) was minted earlier for the same normalised title and a compatible year,
   it is *upgraded*: its alias keys are repointed at the TMDb id, so from now on every
   spelling resolves to the TMDb id. The hash id's own ``titles`` row and past events are
   left alone (rewriting history is not the scraper's job); only new events move. We chose
   the TMDb id as the survivor because it is what every other source can agree on later.
2. **exact** — the alias key (normalised title|year|media type) was seen before, or the
   normalised title exists for the same media type and year.
3. **year±1** — the normalised title exists for the same media type, and the years differ
   by one or one of them is unknown (sources disagree on release vs. premiere year).
4. **fuzzy** — :data:`FUZZY_THRESHOLD` or more with ``fuzz.token_sort_ratio`` on
   normalised titles, same media type, compatible year, and the same numbers in both.
5. **new** — :func:`trendkit.contracts.make_title_id`.

Every decision is remembered as an alias, so a spelling that once matched keeps its id
even if the index later grows a closer candidate. Aliases live in ``title_aliases``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from trendkit.contracts import MediaType, make_title_id, normalise_title, now_utc
from trendkit.db.database import Database
from trendkit.db.models import Title, TitleAlias
from trendkit.db.upsert import chunked, insert_ignore

How = Literal["tmdb", "exact", "year±1", "fuzzy", "new"]

FUZZY_THRESHOLD = 92.0
"""Minimum ``token_sort_ratio`` (0-100) for a fuzzy match.

token_sort_ratio rather than WRatio: WRatio falls back to partial matching when lengths
differ, scoring "dune" against "dune part two" at 90, which would merge a film with its
sequel; token_sort_ratio scores that pair 47. 92 admits one-letter typos in ordinary
titles ("the matrx" 94.7, "stranger thigns" 93.3) while rejecting single-character
differences in short ones ("toy story 3" vs "toy story 4" is 90.9). Longer titles with
differing numbers score higher, so numbers must also agree (see ``_numbers``).
"""

_YEAR_IN_NAME = re.compile(r"\((\d{4})\)\s*$")
_NUMBER = re.compile(r"\d+")


def alias_key(name: str, year: int | None, media_type: MediaType) -> str:
    """Return the alias key of a spelling: normalised title|year|media type."""
    return f"{normalise_title(name)}|{year or ''}|{media_type}"


def _parse_key(key: str) -> tuple[str, int | None, str]:
    norm, year, media = key.rsplit("|", 2)
    return norm, int(year) if year else None, media


def _year_from_name(name: str) -> int | None:
    found = _YEAR_IN_NAME.search(name.strip())
    return int(found.group(1)) if found else None


def _numbers(norm: str) -> list[str]:
    # Numbers name sequels and seasons; a typo rarely touches them, so they must agree.
    return sorted(_NUMBER.findall(norm))


def _year_gap(a: int | None, b: int | None) -> int | None:
    """Return |a - b|, 0 if both are unknown, None if only one is (compatible, inexact)."""
    if a is None and b is None:
        return 0
    if a is None or b is None:
        return None
    return abs(a - b)


@dataclass(frozen=True)
class Resolution:
    """The id a spelling resolved to, how, and the alias keys that now point at it."""

    title_id: str
    how: How
    score: float
    name: str
    media_type: MediaType
    year: int | None
    tmdb_id: int | None = None
    alias_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    title_id: str
    year: int | None


@dataclass
class TitleIndex:
    """Known titles and aliases in memory; resolves spellings and learns from each answer."""

    _aliases: dict[str, str] = field(default_factory=dict)
    # (media type, normalised title) -> titles with that name; several years, several ids.
    _by_name: dict[tuple[str, str], list[_Entry]] = field(default_factory=dict)
    _redirects: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_name.values())

    def add(
        self,
        name: str,
        year: int | None,
        media_type: MediaType,
        *,
        title_id: str | None = None,
        tmdb_id: int | None = None,
    ) -> str:
        """Register a known title (no matching) and return its id."""
        year = year if year is not None else _year_from_name(name)
        if title_id is None:
            title_id = make_title_id(media_type=media_type, tmdb_id=tmdb_id, title=name, year=year)
        entries = self._by_name.setdefault((media_type, normalise_title(name)), [])
        if not any(e.title_id == title_id and e.year == year for e in entries):
            entries.append(_Entry(title_id, year))
        self._aliases.setdefault(alias_key(name, year, media_type), title_id)
        return title_id

    def add_alias(self, key: str, title_id: str) -> None:
        """Record that ``key`` resolves to ``title_id``, upgrading a hash id it replaces."""
        self._aliases[key] = title_id
        norm, year, media = _parse_key(key)
        entries = self._by_name.get((media, norm), [])
        for entry in list(entries):
            hashed = entry.title_id.startswith("title:")
            if entry.year == year and hashed and entry.title_id != title_id:
                self._redirect(entry, entries, title_id)

    def _redirect(self, entry: _Entry, entries: list[_Entry], target: str) -> list[str]:
        """Point a hash id and every alias of it at ``target``; return the keys moved."""
        entries.remove(entry)
        self._redirects[entry.title_id] = target
        moved = [k for k, v in self._aliases.items() if v == entry.title_id]
        for key in moved:
            self._aliases[key] = target
        return moved

    def canonical(self, title_id: str) -> str:
        """Return the id that ``title_id`` now resolves to (itself unless upgraded)."""
        while title_id in self._redirects:
            title_id = self._redirects[title_id]
        return title_id

    def resolve(
        self, name: str, year: int | None, media_type: MediaType, tmdb_id: int | None = None
    ) -> Resolution:
        """Return the id of this spelling by the rules in the module docstring, and learn it."""
        year = year if year is not None else _year_from_name(name)
        norm = normalise_title(name)
        key = alias_key(name, year, media_type)

        def answer(title_id: str, how: How, score: float, *moved: str) -> Resolution:
            keys = tuple(dict.fromkeys((key, *moved)))
            for k in keys:
                self._aliases[k] = title_id
            return Resolution(title_id, how, score, name, media_type, year, tmdb_id, keys)

        if tmdb_id is not None:
            title_id = make_title_id(media_type=media_type, tmdb_id=tmdb_id)
            moved: list[str] = []
            entries = self._by_name.setdefault((media_type, norm), [])
            hashed = self._closest([e for e in entries if e.title_id.startswith("title:")], year)
            if hashed is not None and hashed[0].title_id != title_id:
                moved = self._redirect(hashed[0], entries, title_id)
            if not any(e.title_id == title_id for e in entries):
                entries.append(_Entry(title_id, year))
            owner = self._aliases.get(key)
            if owner is not None and owner.startswith("tmdb:") and owner != title_id:
                # The spelling already belongs to another TMDb title (a remake, say): keep it.
                return Resolution(title_id, "tmdb", 100.0, name, media_type, year, tmdb_id)
            return answer(title_id, "tmdb", 100.0, *moved)

        known = self._aliases.get(key)
        if known is not None:
            return answer(self.canonical(known), "exact", 100.0)

        found = self._closest(self._by_name.get((media_type, norm), []), year)
        if found is not None:
            entry, gap = found
            return answer(entry.title_id, "exact" if gap == 0 else "year±1", 100.0)

        fuzzy = self._fuzzy(norm, year, media_type)
        if fuzzy is not None:
            return answer(fuzzy[0], "fuzzy", fuzzy[1])

        title_id = make_title_id(media_type=media_type, title=name, year=year)
        self._by_name.setdefault((media_type, norm), []).append(_Entry(title_id, year))
        return answer(title_id, "new", 0.0)

    @staticmethod
    def _closest(entries: Iterable[_Entry], year: int | None) -> tuple[_Entry, int] | None:
        """Return the entry whose year is compatible and nearest, with its gap (unknown = 1)."""
        ranked = []
        for entry in entries:
            gap = _year_gap(entry.year, year)
            if gap is not None and gap > 1:
                continue
            gap = 1 if gap is None else gap
            # Ties: prefer TMDb ids, then the most recent year, then the id, for determinism.
            tmdb_last = 0 if entry.title_id.startswith("tmdb:") else 1
            ranked.append(((gap, tmdb_last, -(entry.year or 0), entry.title_id), entry, gap))
        if not ranked:
            return None
        _, entry, gap = min(ranked, key=lambda item: item[0])
        return entry, gap

    def _fuzzy(self, norm: str, year: int | None, media_type: str) -> tuple[str, float] | None:
        """Return the best fuzzy candidate at or above the threshold, with its score."""
        if not norm:
            return None
        names = sorted(n for (m, n) in self._by_name if m == media_type and n != norm)
        matches = process.extract(
            norm,
            names,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=FUZZY_THRESHOLD,
            limit=None,
        )
        numbers = _numbers(norm)
        best: tuple[float, str, str] | None = None
        for candidate, score, _ in matches:
            if _numbers(candidate) != numbers:
                continue
            found = self._closest(self._by_name[(media_type, candidate)], year)
            if found is None:
                continue
            title_id = found[0].title_id
            # Highest score wins; equal scores fall to the smaller id so results are stable.
            if best is None or (-score, title_id) < (-best[0], best[1]):
                best = (float(score), title_id, candidate)
        return None if best is None else (best[1], best[0])


# --- persistence -------------------------------------------------------------------


async def load_index(db: Database) -> TitleIndex:
    """Build the index from the ``titles`` and ``title_aliases`` tables."""
    index = TitleIndex()
    async with db.transaction() as session:
        titles = (
            await session.execute(
                select(
                    Title.title_id, Title.name, Title.year, Title.media_type, Title.tmdb_id
                ).order_by(Title.title_id)
            )
        ).all()
        aliases = (
            await session.execute(
                select(TitleAlias.alias_key, TitleAlias.title_id).order_by(TitleAlias.alias_key)
            )
        ).all()
    for title_id, name, year, media_type, tmdb_id in titles:
        index.add(name, year, cast(MediaType, media_type), title_id=title_id, tmdb_id=tmdb_id)
    for key, title_id in aliases:
        index.add_alias(key, title_id)
    return index


def _tmdb_id_of(title_id: str) -> int | None:
    return int(title_id.rsplit(":", 1)[1]) if title_id.startswith("tmdb:") else None


async def save_aliases(
    db: Database, resolutions: Sequence[Resolution], *, seen_at: datetime | None = None
) -> None:
    """Store the titles and aliases that ``resolutions`` introduced, idempotently.

    Title rows are only inserted where missing (their alias rows need them); the
    observation writer owns updating them. ``seen_at`` stamps new title rows (default now).
    Aliases pointing at a TMDb id overwrite a stored one, because an upgrade from a hash id
    must stick; every other alias is insert-only, so the first decision stays forever.
    """
    if not resolutions:
        return
    stamp = seen_at or now_utc()
    titles: dict[str, dict[str, object]] = {}
    # The spelling that minted an id names its row; other spellings only if none did.
    for r in sorted(resolutions, key=lambda r: r.how not in ("new", "tmdb")):
        titles.setdefault(
            r.title_id,
            {
                "title_id": r.title_id,
                "name": r.name,
                "media_type": r.media_type,
                "year": r.year,
                "tmdb_id": _tmdb_id_of(r.title_id),
                "first_seen_at": stamp,
                "last_seen_at": stamp,
            },
        )
    aliases: dict[str, dict[str, object]] = {}
    for r in resolutions:
        for key in r.alias_keys:
            aliases[key] = {"alias_key": key, "title_id": r.title_id, "alias": r.name}
    upgrades = [a for a in aliases.values() if str(a["title_id"]).startswith("tmdb:")]
    others = [a for a in aliases.values() if not str(a["title_id"]).startswith("tmdb:")]
    async with db.transaction() as session:
        await insert_ignore(session, Title, list(titles.values()))
        await insert_ignore(session, TitleAlias, others)
        for chunk in chunked(upgrades):
            stmt = insert(TitleAlias)
            # Replace only a hash id: an alias already on a TMDb id keeps it.
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[TitleAlias.alias_key],
                    set_={"title_id": stmt.excluded.title_id},
                    where=TitleAlias.title_id.like("title:%"),
                ),
                list(chunk),
            )
