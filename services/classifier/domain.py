"""Genre probabilities for enriched titles, from whichever model is in production.

Until a trained model is promoted (the registry arrives with the training pipeline), the
classifier serves the keyword baseline below, stamped as such in every event's
provenance, so nothing downstream mistakes it for a trained model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from trendkit.contracts import (
    Classification,
    Provenance,
    TitleClassified,
    TitleEnriched,
    derive_event_id,
)
from trendkit.taxonomy import GENRE_KEYWORDS, GENRES, LEXICON_VERSION, keyword_hits


class GenreModel(Protocol):
    """A multi-label genre model: probabilities per genre, and per-genre thresholds."""

    provenance: Provenance

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Return one probability per genre for each text."""
        ...

    def threshold(self, genre: str) -> float:
        """Return the decision threshold of a genre."""
        ...


class KeywordBaselineModel:
    """Logistic squash of keyword hits: a transparent baseline, not a trained model."""

    provenance = Provenance(provider="baseline", model="keyword-lexicon", version=LEXICON_VERSION)

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score every genre by its keyword hits; no hits gives a low prior."""
        out = []
        for text in texts:
            hits = keyword_hits(text, GENRE_KEYWORDS)
            out.append(
                {g: round(1 / (1 + math.exp(-(1.6 * hits.get(g, 0) - 2.2))), 4) for g in GENRES}
            )
        return out

    def threshold(self, genre: str) -> float:
        """Return 0.5: one keyword hit is not enough, two are."""
        return 0.5


def model_text(event: TitleEnriched) -> str:
    """Return the text a model reads: title, overview and the LLM's summary."""
    return f"{event.title.name}. {event.title.overview} {event.enrichment.summary}"


def classify(events: Sequence[TitleEnriched], model: GenreModel) -> list[TitleClassified]:
    """Classify a batch with one model call."""
    probabilities = model.predict_proba([model_text(e) for e in events])
    out = []
    for event, probs in zip(events, probabilities, strict=True):
        genres = sorted(
            (g for g, p in probs.items() if p >= model.threshold(g)), key=lambda g: -probs[g]
        )
        p = model.provenance
        out.append(
            TitleClassified(
                event_id=derive_event_id(event.event_id, "classifier", p.model, p.version),
                title_id=event.title_id,
                observed_at=event.observed_at,
                source_event_id=event.event_id,
                title=event.title,
                observation=event.observation,
                enrichment=event.enrichment,
                classification=Classification(probabilities=probs, genres=genres, provenance=p),
            )
        )
    return out
