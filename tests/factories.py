"""Small builders of contract events for tests: sensible defaults, override what matters."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from trendkit.contracts import (
    Classification,
    Enrichment,
    MediaType,
    Observation,
    Provenance,
    ScoreComponents,
    TitleClassified,
    TitleEnriched,
    TitleInfo,
    TitleObserved,
    TitleScored,
    TrendScored,
    Window,
    make_title_id,
    now_utc,
)


def trend_scored(
    *,
    title_id: str = "tmdb:movie:1",
    name: str = "Title",
    score: float = 50.0,
    rank: int = 1,
    window: Window = "day",
    genres: Iterable[str] = ("Drama",),
    media_type: MediaType = "movie",
    observed_at: datetime | None = None,
    **overrides: Any,
) -> TrendScored:
    """Build a valid ``TrendScored``; ``overrides`` set any other field of the model."""
    fields: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "title_id": title_id,
        "observed_at": observed_at or now_utc(),
        "window": window,
        "score": score,
        "rank": rank,
        "previous_rank": None,
        "components": ScoreComponents(
            sources={
                "tmdb_trending_day": round(score * 0.6, 2),
                "imdb_chart": round(score * 0.4, 2),
            },
            agreement=0.5,
            velocity=1.0,
            hype=10.0,
            raw=score,
        ),
        "explanation": f"{name} is climbing on two charts at once.",
        "title": TitleInfo(name=name, media_type=media_type, year=2024),
        "genres": list(genres),
        "summary": f"{name}, in one line.",
        "vibe_tags": ["tense", "stylish"],
        "scored_by": Provenance(provider="trendkit", model="trend-score", version="1"),
    }
    fields.update(overrides)
    return TrendScored(**fields)


def title_scored(*items: TrendScored, **fields: Any) -> TitleScored:
    """Build a ``trends.scored`` event: the given items of one title (one instant), or one
    item built by :func:`trend_scored` from ``fields``."""
    return TitleScored.of(items or [trend_scored(**fields)])


def title_observed(
    *,
    title_id: str | None = None,
    name: str = "The Glass Orchard",
    media_type: MediaType = "movie",
    source: str = "tmdb_trending_day",
    rank: int = 1,
    overview: str = "A detective returns to her haunted village to solve a murder.",
    observed_at: datetime | None = None,
    signals: dict[str, float] | None = None,
    event_id: str | None = None,
) -> TitleObserved:
    """Build a valid ``TitleObserved``."""
    return TitleObserved(
        event_id=event_id or str(uuid.uuid4()),
        title_id=title_id or make_title_id(media_type=media_type, title=name, year=2025),
        observed_at=observed_at or now_utc(),
        title=TitleInfo(name=name, media_type=media_type, year=2025, overview=overview),
        observation=Observation(source=source, rank=rank, signals=signals or {}),
        scraped_by=Provenance(provider="test", model="factory", version="1"),
    )


def title_enriched(*, hype: float = 50.0, **observed: Any) -> TitleEnriched:
    """Build a valid ``TitleEnriched`` on top of :func:`title_observed`."""
    o = title_observed(**observed)
    provenance = Provenance(provider="test", model="factory", version="1")
    return TitleEnriched(
        event_id=str(uuid.uuid4()),
        title_id=o.title_id,
        observed_at=o.observed_at,
        source_event_id=o.event_id,
        title=o.title,
        observation=o.observation,
        enrichment=Enrichment(summary="A summary.", hype_score=hype, provenance=provenance),
    )


def title_classified(
    *,
    hype: float = 50.0,
    genres: Iterable[str] = ("Crime",),
    classified_id: str | None = None,
    **observed: Any,
) -> TitleClassified:
    """Build a valid ``TitleClassified`` on top of :func:`title_observed`."""
    o = title_observed(**observed)
    provenance = Provenance(provider="test", model="factory", version="1")
    return TitleClassified(
        event_id=classified_id or str(uuid.uuid4()),
        title_id=o.title_id,
        observed_at=o.observed_at,
        source_event_id=o.event_id,
        title=o.title,
        observation=o.observation,
        enrichment=Enrichment(
            summary="A summary.", genres=list(genres), hype_score=hype, provenance=provenance
        ),
        classification=Classification(
            probabilities=dict.fromkeys(genres, 0.9), genres=list(genres), provenance=provenance
        ),
    )
