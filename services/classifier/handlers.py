"""Thin handler: classify the batch with the model in service, store, emit."""

from __future__ import annotations

from services.classifier.domain import classify, title_text
from services.classifier.serving import ModelHolder
from trendkit.contracts import TITLES_CLASSIFIED, TitleEnriched
from trendkit.db.database import Database
from trendkit.db.models import ClassificationRow
from trendkit.db.upsert import copy_upsert
from trendkit.stage import Outbound, Outcome


class ClassifyTitles:
    """Classify a batch of enriched titles with one model (and shadow it, if asked)."""

    def __init__(self, db: Database, models: ModelHolder) -> None:
        self.db = db
        self.models = models

    async def __call__(self, batch: list[TitleEnriched]) -> Outcome:
        """Handle one batch from ``titles.enriched``."""
        model = self.models.current  # one model for the whole batch, even mid-swap
        classified = classify(batch, model)
        self.models.compare(
            [title_text(e) for e in batch],
            [c.classification.probabilities for c in classified],
        )
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
            async with self.db.driver_transaction() as connection:
                # COPY-staged when the batch is large (a flood), executemany when small.
                await copy_upsert(connection, ClassificationRow, rows, conflict=["event_id"])

        # Stored while the outputs are in flight; offsets are committed after both.
        return Outcome([Outbound(TITLES_CLASSIFIED, c) for c in classified], persist)
