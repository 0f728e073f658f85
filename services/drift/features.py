"""What drift looks at in a classified title, and how a window of them becomes a profile.

Two grains, because they answer different questions:

* title features (LLM hype score, model confidence, overview length, genres, vibe tags,
  media type) count each title once, its latest event in the window: a title seen on
  five charts is still one title, as it was one row in the training data;
* observation features (the source, its numeric signals) count every observation.

No database and no FastStream here: events in, lists and profiles out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from services.drift.statistics import agreement
from trendkit.contracts import TitleClassified
from trendkit.data_profile import CategoricalValue, NumericValues, build_profile

MULTI_VALUED = ("predicted_genres", "llm_genres", "vibe_tags", "title_genres")
SIGNAL_PREFIX = "signal."
Bucket = Literal["hour", "day"]


@dataclass
class FeatureColumns:
    """A window's features as columns: numeric and categorical, one value per row."""

    numeric: dict[str, list[float | None]] = field(default_factory=dict)
    categorical: dict[str, list[CategoricalValue]] = field(default_factory=dict)
    titles: int = 0
    observations: int = 0


def confidence(event: TitleClassified) -> float | None:
    """Return the model's highest genre probability: how sure it was of anything."""
    probabilities = event.classification.probabilities
    return max(probabilities.values()) if probabilities else None


def latest_per_title(events: Iterable[TitleClassified]) -> list[TitleClassified]:
    """Keep each title's latest event (by event time, then id, so ties are stable)."""
    latest: dict[str, TitleClassified] = {}
    for event in events:
        kept = latest.get(event.title_id)
        if kept is None or (event.observed_at, event.event_id) > (kept.observed_at, kept.event_id):
            latest[event.title_id] = event
    return [latest[k] for k in sorted(latest)]


def columns(events: Sequence[TitleClassified]) -> FeatureColumns:
    """Turn a window's events into feature columns (titles once, observations all)."""
    titles = latest_per_title(events)
    out = FeatureColumns(titles=len(titles), observations=len(events))
    out.numeric["hype_score"] = [e.enrichment.hype_score for e in titles]
    out.numeric["confidence"] = [confidence(e) for e in titles]
    out.numeric["overview_length"] = [float(len(e.title.overview)) for e in titles]
    out.categorical["predicted_genres"] = [list(e.classification.genres) for e in titles]
    out.categorical["llm_genres"] = [list(e.enrichment.genres) for e in titles]
    out.categorical["vibe_tags"] = [list(e.enrichment.vibe_tags) for e in titles]
    out.categorical["title_genres"] = [list(e.title.genres) for e in titles]
    out.categorical["media_type"] = [e.title.media_type for e in titles]
    out.categorical["source"] = [e.observation.source for e in events]
    signals = sorted({name for e in events for name in e.observation.signals})
    for name in signals:
        out.numeric[f"{SIGNAL_PREFIX}{name}"] = [e.observation.signals.get(name) for e in events]
    return out


def profile(
    cols: FeatureColumns,
    *,
    source: Mapping[str, Any],
    reference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Profile a window's columns; with ``reference``, on the reference's bins."""
    numeric: dict[str, NumericValues] = dict(cols.numeric)
    return build_profile(
        numeric=numeric,
        categorical=cols.categorical,
        multi=MULTI_VALUED,
        source=source,
        reference=reference,
    )


def bucket_start(moment: datetime, bucket: Bucket) -> datetime:
    """Return the start of the hour or day a moment falls in."""
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def over_time(events: Iterable[TitleClassified], bucket: Bucket) -> list[dict[str, Any]]:
    """Per hour or day: titles, model-vs-LLM genre agreement, predicted-genre shares."""
    grouped: dict[datetime, list[TitleClassified]] = defaultdict(list)
    for event in events:
        grouped[bucket_start(event.observed_at, bucket)].append(event)
    rows = []
    for start in sorted(grouped):
        titles = latest_per_title(grouped[start])
        counts: dict[str, int] = defaultdict(int)
        for event in titles:
            for genre in event.classification.genres:
                counts[genre] += 1
        rows.append(
            {
                "start": start.isoformat(),
                "titles": len(titles),
                "agreement": agreement(
                    [e.classification.genres for e in titles], [e.enrichment.genres for e in titles]
                ),
                "genre_shares": {g: n / len(titles) for g, n in sorted(counts.items())},
            }
        )
    return rows
