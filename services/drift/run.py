"""One drift run: predicted-genre mix of the last window against the window before it.

The production model's training profile becomes the reference once the registry stores
one; until then the previous window is the reference, and the report says so.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.drift.psi import psi, shares, verdict
from services.drift.settings import DriftSettings
from trendkit.contracts import now_utc
from trendkit.db.database import Database
from trendkit.db.models import ClassificationRow, DriftReport
from trendkit.taxonomy import GENRES


async def _genres_between(db: Database, start: Any, end: Any) -> list[str]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(ClassificationRow.genres).where(
                ClassificationRow.created_at >= start, ClassificationRow.created_at < end
            )
        )
        return [g for genres in rows for g in genres]


async def run_drift(db: Database, settings: DriftSettings) -> dict[str, Any]:
    """Compare the windows, store the report, and return it."""
    end = now_utc()
    window = timedelta(hours=settings.window_hours)
    current = await _genres_between(db, end - window, end)
    reference = await _genres_between(db, end - 2 * window, end - window)
    enough = min(len(current), len(reference)) >= settings.min_samples
    value = psi(shares(reference, GENRES), shares(current, GENRES)) if enough else None
    report: dict[str, Any] = {
        "reference": "previous window",
        "window_hours": settings.window_hours,
        "samples": {"reference": len(reference), "current": len(current)},
        "features": {"predicted_genres": {"test": "psi", "statistic": value}},
        "note": None if enough else f"fewer than {settings.min_samples} labels: no verdict",
    }
    result = verdict(value, warn=settings.psi_warn, alert=settings.psi_alert)
    async with db.transaction() as session:
        session.add(DriftReport(id=str(uuid.uuid4()), ran_at=end, report=report, verdict=result))
    report["verdict"] = result
    return report
