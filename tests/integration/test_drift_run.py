"""One drift run on the real stack: Postgres in, a drift_reports row, objects and gauges out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select

from services.classifier.bootstrap import ensure_production_model
from services.drift.__main__ import create_app
from services.drift.metrics import DriftMetrics
from services.drift.run import run_drift
from services.drift.settings import DriftSettings
from tests.factories import title_classified
from trendkit.db.database import Database
from trendkit.db.models import DriftReport, ScorerInput
from trendkit.objectstore import ObjectStore, open_object_store
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

END = datetime(2025, 6, 1, 12, tzinfo=UTC)
OVERVIEWS = (
    "A detective returns to her haunted village to solve a murder.",
    "Two friends open a bakery and fall for the same customer in a small seaside town.",
    "Astronauts stranded on a moon base fight to survive as their air runs out.",
)


@pytest.fixture
def drift_settings(settings: CommonSettings) -> DriftSettings:
    return DriftSettings(
        database_url=settings.database_url,
        object_store_url=settings.object_store_url,
        window_hours=24,
        min_samples=30,
    )


@pytest.fixture
async def db(drift_settings: DriftSettings) -> AsyncIterator[Database]:
    database = Database(drift_settings.database_url, service="test-drift")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def store(drift_settings: DriftSettings) -> AsyncIterator[ObjectStore]:
    objects = open_object_store(drift_settings.object_store_url)
    yield objects
    await objects.close()


async def archive(db: Database, *, start: datetime, n: int, hype: float, tag: str) -> None:
    """Store ``n`` classified titles as the scorer archives them, one every 15 minutes."""
    rows: list[dict[str, Any]] = []
    for i in range(n):
        event = title_classified(
            name=f"{tag} {i}",
            hype=hype + i % 7,
            genres=("Crime", "Drama") if i % 2 else ("Crime",),
            overview=OVERVIEWS[i % 3],
            observed_at=start + timedelta(minutes=15 * i),
            signals={"popularity": 100.0 + i},
        )
        rows.append(
            {
                "event_id": event.event_id,
                "title_id": event.title_id,
                "partition": 0,
                "observed_at": event.observed_at,
                "payload": event.model_dump(mode="json"),
            }
        )
    async with db.transaction() as session:
        await session.execute(insert(ScorerInput), rows)


async def test_a_run_against_the_previous_window_stores_row_objects_and_gauges(
    db: Database, store: ObjectStore, drift_settings: DriftSettings
) -> None:
    await archive(db, start=END - timedelta(hours=47), n=80, hype=10.0, tag="old")
    await archive(db, start=END - timedelta(hours=23), n=80, hype=80.0, tag="new")

    done = await run_drift(db, store, drift_settings, as_of=END)

    assert done.verdict == "alert"
    assert "hype_score" in done.report["drifted"]
    assert done.report["reference"]["kind"] == "previous_window"
    assert "no production model" in done.report["reference"]["reason"]
    assert done.report["current"]["titles"] == 80
    async with db.transaction() as session:
        row = (await session.scalars(select(DriftReport))).one()
    assert (row.id, row.verdict, row.report_uri) == (done.id, "alert", done.report_uri)
    assert row.report["features"]["hype_score"]["level"] == "alert"
    keys = await store.list(f"drift/{done.id}/")
    assert {f"drift/{done.id}/{name}" for name in ("report.json", "report.html", "psi.png")} <= set(
        keys
    )
    stored = json.loads(await store.get(f"drift/{done.id}/report.json"))
    assert stored["verdict"] == "alert"
    page = (await store.get(f"drift/{done.id}/report.html")).decode()
    for key in keys:
        if key.endswith(".png"):
            assert f'src="{key.rsplit("/", 1)[1]}"' in page

    registry = CollectorRegistry()
    DriftMetrics(registry).observe(done.report, 1_700_000_000.0)
    psi = registry.get_sample_value("trending_drift_psi", {"feature": "hype_score"})
    assert psi is not None
    assert psi >= drift_settings.psi_alert
    assert registry.get_sample_value("trending_drift_verdict") == 2.0
    level = registry.get_sample_value("trending_drift_feature_level", {"feature": "hype_score"})
    assert level == 2.0
    assert registry.get_sample_value("trending_drift_agreement_rate") == 1.0

    # The same window again overwrites its report instead of adding another.
    again = await run_drift(db, store, drift_settings, as_of=END)
    async with db.transaction() as session:
        assert len((await session.scalars(select(DriftReport))).all()) == 1
    assert again.id == done.id


async def test_the_production_models_training_profile_is_the_reference(
    db: Database, store: ObjectStore, drift_settings: DriftSettings
) -> None:
    record, _ = await ensure_production_model(db, store)
    assert await store.exists(f"models/genres/{record.version}/reference_profile.json")
    await archive(db, start=END - timedelta(hours=23), n=80, hype=50.0, tag="now")

    done = await run_drift(db, store, drift_settings, as_of=END)

    reference = done.report["reference"]
    assert reference["kind"] == "training"
    assert reference["model_version"] == record.version
    assert done.report["model_version"] == record.version
    features = done.report["features"]
    # The training data has no hype score; it does have overview lengths and media types.
    assert features["hype_score"]["note"] == "not in the reference profile"
    assert features["overview_length"]["level"] is not None
    assert features["media_type"]["level"] is not None
    # Three overviews repeated 80 times look nothing like the training overviews.
    assert features["overview_length"]["drift"] is True
    assert done.verdict in ("warn", "alert")


async def test_the_service_runs_on_schedule_and_exposes_its_gauges(
    db: Database, drift_settings: DriftSettings
) -> None:
    now = datetime.now(UTC)
    await archive(db, start=now - timedelta(hours=47), n=60, hype=10.0, tag="old")
    await archive(db, start=now - timedelta(hours=23), n=60, hype=80.0, tag="new")
    app = create_app(drift_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://drift") as client,
    ):
        for _ in range(600):  # the first run starts at once; give it up to a minute
            body = (await client.get("/metrics")).text
            if "trending_drift_last_run_timestamp_seconds 0.0" not in body:
                break
            await asyncio.sleep(0.1)
    assert 'trending_drift_psi{feature="hype_score"}' in body
    assert "trending_drift_verdict 2.0" in body
    async with db.transaction() as session:
        assert (await session.scalars(select(DriftReport.verdict))).one() == "alert"


def test_drift_run_from_the_command_line_prints_the_verdict(
    drift_settings: DriftSettings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(
        app,
        ["drift", "run", "--as-of", "2025-06-01T12:00:00"],
        env={
            "DATABASE_URL": drift_settings.database_url,
            "OBJECT_STORE_URL": drift_settings.object_store_url,
        },
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "null"
    assert "not enough data" in result.stderr
