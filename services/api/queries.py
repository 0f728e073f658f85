"""Postgres reads behind the REST api, and the shapes they are returned in.

Plain SQLAlchemy and pydantic, no FastAPI: rest.py validates the request, picks what the
hub holds live, and calls these for everything that only Postgres knows (the catalogue,
score history, the model registry, drift reports). Every read is one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from trendkit.contracts import WINDOWS, TrendScored, Window
from trendkit.db.database import Database
from trendkit.db.models import (
    SCORE_COLUMNS,
    ClassificationRow,
    CurrentScore,
    DriftReport,
    EnrichmentRow,
    ModelVersion,
    ObservationRow,
    Title,
    TitleCard,
    TrendScoreRow,
)

# --- response shapes ----------------------------------------------------------------


class TitleFacts(BaseModel):
    """What a title is: from ``titles``, or from its latest score when never stored."""

    name: str
    media_type: str
    year: int | None = None
    overview: str = ""
    poster_url: str | None = None
    tmdb_id: int | None = None


class EnrichmentFacts(BaseModel):
    """What the LLM said; provider/model/hype are null when only a score payload knew it."""

    summary: str
    vibe_tags: list[str] = Field(default_factory=list)
    genres: list[str] = Field(default_factory=list)
    hype_score: float | None = None
    provider: str | None = None
    model: str | None = None


class TitleGenres(BaseModel):
    """A title's genres by who said so: the LLM, our model, the source."""

    llm: list[str] = Field(default_factory=list)
    model: list[str] = Field(default_factory=list)
    model_probabilities: dict[str, float] = Field(default_factory=dict)
    model_version: str | None = None
    source: list[str] = Field(default_factory=list)


class WindowScores(BaseModel):
    """A title's current score in each window (null where it is not ranked)."""

    live: TrendScored | None = None
    day: TrendScored | None = None
    week: TrendScored | None = None


class TitleDetail(BaseModel):
    """Body of ``GET /api/titles/{title_id}``."""

    title_id: str
    title: TitleFacts
    enrichment: EnrichmentFacts | None
    genres: TitleGenres
    scores: WindowScores


class HistoryPoint(BaseModel):
    """One published score of a title."""

    at: datetime
    score: float
    rank: int


class TitleHistory(BaseModel):
    """Body of ``GET /api/titles/{title_id}/history``: oldest point first."""

    title_id: str
    window: Window
    points: list[HistoryPoint]


class TrendsAt(BaseModel):
    """Body of ``GET /api/trends/at``: a window's ranking as it stood at ``at``."""

    window: Window
    at: datetime
    count: int
    items: list[TrendScored]


class SourceSeen(BaseModel):
    """One source: how often it was observed, when last, and how many ranked titles it feeds."""

    name: str
    observations: int
    last_observed_at: datetime | None
    scored_titles: int


class ModelSummary(BaseModel):
    """One registry row with its headline metrics."""

    name: str
    version: str
    kind: str
    stage: str
    macro_f1: float | None
    micro_f1: float | None
    created_at: datetime
    promoted_at: datetime | None


class DriftReportOut(BaseModel):
    """Body of ``GET /api/drift/latest``."""

    id: str
    ran_at: datetime
    model_version: str | None
    verdict: str
    report: dict[str, Any]
    report_uri: str | None


# --- title detail -------------------------------------------------------------------


@dataclass
class TitleRows:
    """Everything Postgres holds about one title, read in one transaction."""

    title: Title | None = None
    enrichment: EnrichmentRow | None = None
    classification: ClassificationRow | None = None
    current: dict[Window, TrendScored] = field(default_factory=dict)


async def read_title(db: Database, title_id: str) -> TitleRows:
    """Read a title's catalogue row, latest enrichment and classification, current scores."""
    async with db.transaction() as session:
        title = await session.get(Title, title_id)
        enrichment = await session.scalar(
            select(EnrichmentRow)
            .where(EnrichmentRow.title_id == title_id)
            .order_by(EnrichmentRow.created_at.desc())
            .limit(1)
        )
        classification = await session.scalar(
            select(ClassificationRow)
            .where(ClassificationRow.title_id == title_id)
            .order_by(ClassificationRow.created_at.desc(), ClassificationRow.event_id.desc())
            .limit(1)
        )
        scored = await current_items(session, CurrentScore.title_id == title_id)
        current = {item.window: item for item in scored}
    return TitleRows(title, enrichment, classification, current)


def title_detail(
    title_id: str, rows: TitleRows, live: dict[Window, TrendScored]
) -> TitleDetail | None:
    """Merge Postgres rows with the hub's live items; None when nobody knows the title.

    The hub wins per window because it is ahead of ``current_scores`` by at most a batch
    and never behind it; the latest score carries the title when the scraper never stored
    it (the pipeline runs without one, e.g. from a replayed timeline).
    """
    scores = {w: live.get(w) or rows.current.get(w) for w in WINDOWS}
    present = [s for s in scores.values() if s is not None]
    latest = max(present, key=lambda s: s.observed_at) if present else None
    if rows.title is None and latest is None:
        return None
    return TitleDetail(
        title_id=title_id,
        title=_title_facts(rows.title, latest),
        enrichment=_enrichment_facts(rows.enrichment, latest),
        genres=_title_genres(rows, latest),
        scores=WindowScores(**scores),
    )


def _title_facts(row: Title | None, latest: TrendScored | None) -> TitleFacts:
    if row is not None:
        return TitleFacts(
            name=row.name,
            media_type=row.media_type,
            year=row.year,
            overview=row.overview,
            poster_url=row.poster_url,
            tmdb_id=row.tmdb_id,
        )
    assert latest is not None
    return TitleFacts.model_validate(latest.title.model_dump(exclude={"genres"}))


def _enrichment_facts(
    row: EnrichmentRow | None, latest: TrendScored | None
) -> EnrichmentFacts | None:
    if row is not None:
        return EnrichmentFacts(
            summary=row.summary,
            vibe_tags=list(row.vibe_tags),
            genres=list(row.genres),
            hype_score=row.hype_score,
            provider=row.provider,
            model=row.model,
        )
    if latest is None or not (latest.summary or latest.vibe_tags):
        return None
    return EnrichmentFacts(
        summary=latest.summary, vibe_tags=list(latest.vibe_tags), genres=list(latest.genres)
    )


def _title_genres(rows: TitleRows, latest: TrendScored | None) -> TitleGenres:
    classification = rows.classification
    source = rows.title.genres if rows.title is not None else []
    if not source and latest is not None:
        source = latest.title.genres
    return TitleGenres(
        llm=list(rows.enrichment.genres) if rows.enrichment is not None else [],
        model=list(classification.genres) if classification is not None else [],
        model_probabilities=dict(classification.probabilities) if classification else {},
        model_version=classification.model_version if classification is not None else None,
        source=list(source),
    )


def score_item(row: Mapping[Any, Any], description: Any) -> TrendScored | None:
    """Return a ranking item from a score row (``trend_scores`` or ``current_scores``) and
    the title's card (``title_cards.description``); None when they do not make one.

    A row without a card (nothing describes the title: no name, no media type), or one
    written under an older contract, must not turn one title's page into a 500.
    """
    if not isinstance(description, dict):
        return None
    try:
        return TrendScored.model_validate(
            {
                **description,
                **{c: row[c] for c in SCORE_COLUMNS if c != "scored_at"},
                "components": row["components"] or {},
                "observed_at": row["scored_at"],  # the score's instant is the item's
            }
        )
    except ValidationError:
        return None


async def current_items(
    session: AsyncSession,
    *where: ColumnElement[bool],
    order_by: Sequence[Any] = (),
    limit: int | None = None,
) -> list[TrendScored]:
    """Return current scores as ranking items: ``current_scores`` rows with their cards."""
    c = CurrentScore
    query = (
        select(*(c.__table__.c[name] for name in SCORE_COLUMNS), TitleCard.description)
        .outerjoin(TitleCard, TitleCard.title_id == c.title_id)
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
    )
    rows = await session.execute(query)
    items = (score_item(row._mapping, row.description) for row in rows)
    return [item for item in items if item is not None]


# --- history and time travel --------------------------------------------------------


async def title_known(db: Database, title_id: str) -> bool:
    """Return whether any table has heard of the title."""
    async with db.transaction() as session:
        for column in (Title.title_id, CurrentScore.title_id, TrendScoreRow.title_id):
            if await session.scalar(select(column).where(column == title_id).limit(1)):
                return True
    return False


async def read_history(
    db: Database, title_id: str, window: Window, *, since: datetime, limit: int
) -> list[HistoryPoint]:
    """Return the newest ``limit`` scores of a title since ``since``, oldest first."""
    t = TrendScoreRow
    async with db.transaction() as session:
        rows = await session.execute(
            select(t.scored_at, t.score, t.rank)
            .where(t.title_id == title_id, t.window == window, t.scored_at >= since)
            .order_by(t.scored_at.desc(), t.event_id.desc())
            .limit(limit)
        )
        points = [HistoryPoint(at=at, score=score, rank=rank) for at, score, rank in rows]
    points.reverse()
    return points


async def ranking_at(
    db: Database,
    window: Window,
    at: datetime,
    *,
    keep: Callable[[TrendScored], bool] | None = None,
    limit: int,
) -> list[TrendScored]:
    """Return a window's ranking as it stood at ``at``: each title's last score by then.

    Items take the title, genres and summary of the title's card (those are not part of
    the history) and the historical score, rank, components and explanation.
    ``keep`` (a predicate on an item) filters before the limit applies.
    """
    t = TrendScoreRow
    latest = (
        select(t)
        .where(t.window == window, t.scored_at <= at)
        .order_by(t.title_id, t.scored_at.desc(), t.event_id.desc())
        .ext(distinct_on(t.title_id))
        .subquery()
    )
    query = (
        select(latest, TitleCard.description)
        .outerjoin(TitleCard, TitleCard.title_id == latest.c.title_id)
        .order_by(latest.c.rank, latest.c.score.desc(), latest.c.title_id)
    )
    if keep is None:
        query = query.limit(limit)
    async with db.transaction() as session:
        rows = [row._mapping for row in await session.execute(query)]
    items: list[TrendScored] = []
    for row in rows:
        item = score_item(row, row["description"])
        if item is not None and (keep is None or keep(item)):
            items.append(item)
            if len(items) >= limit:
                break
    return items


# --- catalogue-wide reads -----------------------------------------------------------


async def observed_sources(db: Database) -> dict[str, tuple[int, datetime | None]]:
    """Return, per source, how many observations it gave and when it gave the last."""
    o = ObservationRow
    async with db.transaction() as session:
        rows = await session.execute(
            select(o.source, func.count(), func.max(o.observed_at)).group_by(o.source)
        )
        return {source: (count, last) for source, count, last in rows}


def source_list(
    observed: dict[str, tuple[int, datetime | None]], scored: Iterable[TrendScored]
) -> list[SourceSeen]:
    """Merge observation counts with the sources that feed current scores."""
    titles: dict[str, set[str]] = {}
    for item in scored:
        for source in item.components.sources:
            titles.setdefault(source, set()).add(item.title_id)
    names = sorted(observed.keys() | titles.keys())
    return [
        SourceSeen(
            name=name,
            observations=observed.get(name, (0, None))[0],
            last_observed_at=observed.get(name, (0, None))[1],
            scored_titles=len(titles.get(name, ())),
        )
        for name in names
    ]


async def registry_models(db: Database) -> list[ModelSummary]:
    """Return the model registry, newest first."""
    async with db.transaction() as session:
        rows = await session.scalars(
            select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.version)
        )
        return [
            ModelSummary(
                name=row.name,
                version=row.version,
                kind=row.kind,
                stage=row.stage,
                macro_f1=_metric(row.metrics, "macro_f1"),
                micro_f1=_metric(row.metrics, "micro_f1"),
                created_at=row.created_at,
                promoted_at=row.promoted_at,
            )
            for row in rows
        ]


def _metric(metrics: dict[str, Any] | None, name: str) -> float | None:
    value = (metrics or {}).get(name)
    return float(value) if isinstance(value, int | float) else None


async def latest_drift(db: Database) -> DriftReportOut | None:
    """Return the most recent drift report, or None before the first run."""
    async with db.transaction() as session:
        row = await session.scalar(
            select(DriftReport).order_by(DriftReport.ran_at.desc(), DriftReport.id).limit(1)
        )
        if row is None:
            return None
        return DriftReportOut(
            id=row.id,
            ran_at=row.ran_at,
            model_version=row.model_version,
            verdict=row.verdict,
            report=dict(row.report or {}),
            report_uri=row.report_uri,
        )
