"""Thin handler: classify the batch with one model call, store, emit."""

from __future__ import annotations

from services.classifier.domain import GenreModel, classify
from trendkit.contracts import TITLES_CLASSIFIED, TitleEnriched
from trendkit.db.database import Database
from trendkit.db.models import ClassificationRow
from trendkit.db.upsert import insert_ignore
from trendkit.stage import Outbound, Outcome


class ClassifyTitles:
    """Classify a batch of enriched titles."""

    def __init__(self, db: Database, model: GenreModel) -> None:
        self.db = db
        self.model = model

    async def __call__(self, batch: list[TitleEnriched]) -> Outcome:
        """Handle one batch from ``titles.enriched``."""
        classified = classify(batch, self.model)
        rows = [
            {
                "event_id": c.event_id,
                "title_id": c.title_id,
                "model_version": c.classification.provenance.version,
                "probabilities": c.classification.probabilities,
                "genres": c.classification.genres,
            }
            for c in classified
        ]

        async def persist() -> None:
            async with self.db.transaction() as session:
                await insert_ignore(session, ClassificationRow, rows)

        # Stored while the outputs are in flight; offsets are committed after both.
        return Outcome([Outbound(TITLES_CLASSIFIED, c) for c in classified], persist)
