"""One drift run: read the windows, pick the reference, compare, store, return the result.

The reference is the production model's training profile (``reference_profile.json`` in
its folder); when there is no production model, or it has no profile, it is the window
before the current one, and the report says which and why. Outputs are written before
the ``drift_reports`` row, so a row never points at objects that are not there; a failed
upload still records the verdict, with the error in the report.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from services.drift import features, render
from services.drift.report import build_report, most_common_version, title_agreement
from services.drift.settings import DriftSettings
from services.drift.sources import (
    production_model,
    profile_key,
    read_window,
    training_profile,
)
from services.drift.statistics import Level
from trendkit.contracts import now_utc
from trendkit.db.database import Database
from trendkit.db.models import DriftReport
from trendkit.objectstore import ObjectStore, ObjectStoreError, put_json

log = logging.getLogger(__name__)
NO_VERDICT = "insufficient"
"""``drift_reports.verdict`` when there was not enough data (the report's verdict is null)."""


@dataclass(frozen=True)
class DriftRun:
    """What one run decided and where its report lives."""

    id: str
    verdict: Level | None
    report: dict[str, Any]
    report_uri: str | None


def run_id(end: datetime) -> str:
    """Name a run after its window's end: re-running the same window overwrites it."""
    return end.strftime("%Y%m%dT%H%M%SZ")


def report_prefix(identifier: str) -> str:
    """Return the object-store folder of a run's report."""
    return f"drift/{identifier}"


async def _reference(
    db: Database, store: ObjectStore, settings: DriftSettings, end: datetime, window: timedelta
) -> tuple[dict[str, Any], dict[str, Any], float | None, str | None]:
    """Return (profile, description, agreement, model version) of the reference."""
    model = await production_model(db, settings.model_name)
    if model is not None:
        profile = await training_profile(store, model)
        if profile is not None:
            info = {"kind": "training", "model_version": model.version, "key": profile_key(model)}
            info.update(profile.get("source", {}), kind="training")
            return profile, info, None, model.version
        reason = f"production model {model.version} has no reference profile"
    else:
        reason = f"no production model named {settings.model_name!r}"
    previous = await read_window(db, end - 2 * window, end - window)
    cols = features.columns(previous.events)
    source = {
        "kind": "previous_window",
        "start": previous.start.isoformat(),
        "end": previous.end.isoformat(),
        "reason": reason,
        "titles": cols.titles,
        "observations": cols.observations,
    }
    profile = features.profile(cols, source=source)
    return profile, source, title_agreement(previous.events), model.version if model else None


async def _store(store: ObjectStore, prefix: str, report: dict[str, Any]) -> str:
    """Write the plots, the HTML page and the JSON report; return the page's URI."""
    images = await asyncio.to_thread(render.plots, report)
    for name, data in images.items():
        await store.put(f"{prefix}/{name}", data, content_type="image/png")
    page = render.page(report, images)
    uri = await store.put(f"{prefix}/report.html", page.encode(), content_type="text/html")
    await put_json(store, f"{prefix}/report.json", report)
    return uri


async def run_drift(
    db: Database, store: ObjectStore, settings: DriftSettings, *, as_of: datetime | None = None
) -> DriftRun:
    """Run drift once over the window ending at ``as_of`` (default: now)."""
    end = as_of or now_utc()
    window = timedelta(hours=settings.window_hours)
    current = await read_window(db, end - window, end)
    profile, reference, ref_agreement, version = await _reference(db, store, settings, end, window)
    identifier = run_id(end)
    ran_at = now_utc()
    report = await asyncio.to_thread(
        lambda: build_report(
            run_id=identifier,
            ran_at=ran_at,
            window=(current.start, current.end),
            current=current.events,
            unreadable=current.unreadable,
            reference_profile=profile,
            reference=reference,
            reference_agreement=ref_agreement,
            model_version=version or most_common_version(current.events),
            thresholds=settings.thresholds,
            bucket=settings.bucket,
        )
    )
    prefix = report_prefix(identifier)
    report["objects"] = prefix
    uri: str | None = None
    try:
        uri = await _store(store, prefix, report)
    except (ObjectStoreError, OSError) as error:
        log.exception("drift %s: report not stored", identifier)
        report["objects_error"] = str(error)
    verdict: Level | None = report["verdict"]
    row = {
        "id": identifier,
        "ran_at": ran_at,
        "model_version": report["model_version"],
        "report": report,
        "verdict": verdict or NO_VERDICT,
        "report_uri": uri,
    }
    async with db.transaction() as session:
        statement = insert(DriftReport).values(row)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[DriftReport.id],
                set_={k: statement.excluded[k] for k in row if k != "id"},
            )
        )
    return DriftRun(identifier, verdict, report, uri)
