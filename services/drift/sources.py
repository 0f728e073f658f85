"""Where drift's data comes from: Postgres (recent titles, the registry) and the object store.

Recent titles are read from ``scorer_inputs``: each row holds a whole ``TitleClassified``
event (title, observation, enrichment, classification), so one query gives every feature
without joining four tables. The window is on event time (``observed_at``), which that
table indexes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from trendkit.contracts import TitleClassified
from trendkit.data_profile import PROFILE_FILE
from trendkit.db.database import Database
from trendkit.db.models import ModelVersion, ScorerInput
from trendkit.objectstore import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """Events of one time window, and how many stored payloads could not be read."""

    start: datetime
    end: datetime
    events: list[TitleClassified]
    unreadable: int = 0


@dataclass(frozen=True)
class ProductionModel:
    """The registry's production model of a name."""

    name: str
    version: str
    artifact_uri: str | None


def _event(payload: Any) -> TitleClassified:
    if isinstance(payload, str):
        return TitleClassified.model_validate_json(payload)
    return TitleClassified.model_validate(payload)


async def read_window(db: Database, start: datetime, end: datetime) -> Window:
    """Return the classified events observed in ``[start, end)``."""
    query = (
        select(ScorerInput.payload)
        .where(
            ScorerInput.observed_at >= start,
            ScorerInput.observed_at < end,
            ScorerInput.payload.is_not(None),
        )
        .order_by(ScorerInput.observed_at, ScorerInput.event_id)
    )
    events: list[TitleClassified] = []
    unreadable = 0
    async with db.transaction() as session:
        for payload in await session.scalars(query):
            try:
                events.append(_event(payload))
            except ValidationError:
                # An archived event of an older schema: counted in the report, not fatal.
                unreadable += 1
    return Window(start, end, events, unreadable)


async def production_model(db: Database, name: str) -> ProductionModel | None:
    """Return the production model of ``name``, if there is one."""
    async with db.transaction() as session:
        row = await session.scalar(
            select(ModelVersion).where(
                ModelVersion.name == name, ModelVersion.stage == "production"
            )
        )
    return ProductionModel(row.name, row.version, row.artifact_uri) if row else None


def profile_key(model: ProductionModel) -> str:
    """Return the object key of a model's reference profile.

    Model folders live under ``models/<name>/<version>/`` (the classifier's registry
    writes them there); drift reads that layout rather than importing the classifier.
    """
    return f"models/{model.name}/{model.version}/{PROFILE_FILE}"


async def training_profile(store: ObjectStore, model: ProductionModel) -> dict[str, Any] | None:
    """Return the model's stored reference profile, or None when it has none."""
    try:
        raw = await store.get(profile_key(model))
    except ObjectNotFound:
        return None
    try:
        profile = json.loads(raw)
    except ValueError:
        log.warning("unreadable reference profile of %s: using a window instead", model.version)
        return None
    return profile if isinstance(profile, dict) and "features" in profile else None
