"""Genre probabilities for enriched titles, from whichever model is in production.

No FastStream here. A served model answers per title a probability for every genre of
the taxonomy (0 for labels it was not trained on) and a decision threshold per genre.
Until the registry has a production model, the keyword baseline below serves, stamped
``provider="baseline"`` in every event's provenance, so nothing downstream mistakes it
for a trained model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Protocol

from services.classifier.data import TitleText
from trendkit.contracts import (
    Classification,
    Provenance,
    TitleClassified,
    TitleEnriched,
    derive_event_id,
)
from trendkit.taxonomy import GENRE_KEYWORDS, GENRES, LEXICON_VERSION, keyword_hits


class ServingModel(Protocol):
    """What the classifier serves: probabilities per genre, and per-genre thresholds."""

    provenance: Provenance

    def predict(self, titles: Sequence[TitleText]) -> list[dict[str, float]]:
        """Return one probability per taxonomy genre for each title."""
        ...

    def threshold(self, genre: str) -> float:
        """Return the decision threshold of a genre."""
        ...


def _squash(hits: int) -> float:
    return round(1 / (1 + math.exp(-(1.6 * hits - 2.2))), 4)


class KeywordBaselineModel:
    """Logistic squash of keyword hits: a transparent baseline, not a trained model."""

    provenance = Provenance(provider="baseline", model="keyword-lexicon", version=LEXICON_VERSION)
    # Hit counts are small integers: squash each once, not once per genre and title.
    _NO_HITS: ClassVar[dict[str, float]] = dict.fromkeys(GENRES, _squash(0))
    _SQUASHED: ClassVar[tuple[float, ...]] = tuple(
        _squash(h) for h in range(max(map(len, GENRE_KEYWORDS.values())) + 1)
    )

    def predict(self, titles: Sequence[TitleText]) -> list[dict[str, float]]:
        """Score every genre by its keyword hits; no hits gives a low prior."""
        out = []
        for title in titles:
            probabilities = dict(self._NO_HITS)
            for genre, hits in keyword_hits(
                f"{title.title}. {title.overview}", GENRE_KEYWORDS
            ).items():
                probabilities[genre] = self._SQUASHED[hits]
            out.append(probabilities)
        return out

    def threshold(self, genre: str) -> float:
        """Return 0.5: one keyword hit is not enough, two are."""
        return 0.5


def title_text(event: TitleEnriched) -> TitleText:
    """Return what a model reads of an enriched title: the same fields it was trained on."""
    t = event.title
    return TitleText(title=t.name, overview=t.overview, media_type=t.media_type, year=t.year)


def chosen_genres(probs: dict[str, float], model: ServingModel) -> list[str]:
    """Return the genres over their thresholds, most probable first."""
    return sorted((g for g, p in probs.items() if p >= model.threshold(g)), key=lambda g: -probs[g])


def classify(events: Sequence[TitleEnriched], model: ServingModel) -> list[TitleClassified]:
    """Classify a batch with one model call.

    The output's id depends on the input alone, not on the model: one enriched event
    yields one classified event, even when a redelivered batch meets a newer model.
    """
    probabilities = model.predict([title_text(e) for e in events])
    out = []
    for event, probs in zip(events, probabilities, strict=True):
        out.append(
            TitleClassified(
                event_id=derive_event_id(event.event_id, "classifier"),
                title_id=event.title_id,
                observed_at=event.observed_at,
                source_event_id=event.event_id,
                title=event.title,
                observation=event.observation,
                enrichment=event.enrichment,
                classification=Classification(
                    probabilities=probs,
                    genres=chosen_genres(probs, model),
                    provenance=model.provenance,
                ),
            )
        )
    return out
