"""The model registry through Postgres and the object store (a folder, and the S3 API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.classifier.artifact import Manifest
from services.classifier.registry import ModelRecord, Registry, RegistryError
from trendkit.db.database import Database
from trendkit.db.models import ModelPromotion
from trendkit.objectstore import ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry(database_url: str, store: ObjectStore) -> AsyncIterator[Registry]:
    db = Database(database_url, service="test-registry")
    await db.open()
    yield Registry(db, store)
    await db.close()


def model_folder(root: Path, name: str) -> Path:
    folder = root / name
    Manifest(kind="xgboost", labels=["Drama"], thresholds=[0.4]).write(folder)
    (folder / "booster.ubj").write_bytes(b"\x00weights of " + name.encode())
    (folder / "report").mkdir()
    (folder / "report" / "f1.png").write_bytes(b"\x89PNG fake")
    return folder


async def register(
    registry: Registry, tmp_path: Path, name: str, macro_f1: float, split: str = "split-a"
) -> ModelRecord:
    return await registry.register(
        model_folder(tmp_path, name),
        kind="xgboost",
        metrics={"macro_f1": macro_f1, "test_split_hash": split},
        params={"max_depth": 6},
        data_card_hash="card-1",
    )


async def decisions(registry: Registry) -> list[tuple[str, bool, bool]]:
    async with registry.db.transaction() as session:
        rows = (await session.scalars(select(ModelPromotion).order_by(ModelPromotion.id))).all()
    return [(r.version, r.promoted, r.forced) for r in rows]


async def test_a_registered_model_round_trips_through_the_store(
    registry: Registry, tmp_path: Path
) -> None:
    record = await register(registry, tmp_path, "one", 0.6)
    assert record.stage == "candidate"
    assert record.version.startswith("xgboost-")
    assert (record.macro_f1, record.params, record.data_card_hash) == (
        0.6,
        {"max_depth": 6},
        "card-1",
    )
    assert [r.version for r in await registry.list("genres")] == [record.version]

    folder = await registry.download(record, tmp_path / "back")
    assert (folder / "booster.ubj").read_bytes() == b"\x00weights of one"
    assert (folder / "report" / "f1.png").read_bytes() == b"\x89PNG fake"
    assert Manifest.read(folder).labels == ["Drama"]

    with pytest.raises(RegistryError, match="no model genres nope"):
        await registry.get("genres", "nope")


async def test_promotion_is_gated_on_the_same_test_split_and_recorded(
    registry: Registry, tmp_path: Path
) -> None:
    first = await register(registry, tmp_path, "first", 0.60)
    worse = await register(registry, tmp_path, "worse", 0.55)
    close = await register(registry, tmp_path, "close", 0.595)

    assert (await registry.promote("genres", first.version)).promoted  # nothing to beat
    refused = await registry.promote("genres", worse.version, tolerance=0.01)
    assert not refused.promoted
    assert "worse than production 0.6000" in refused.reason
    assert (await registry.production()).version == first.version  # type: ignore[union-attr]

    within = await registry.promote("genres", close.version, tolerance=0.01)
    assert within.promoted
    assert within.previous_version == first.version
    assert (await registry.get("genres", first.version)).stage == "archived"

    forced = await registry.promote("genres", worse.version, force=True)
    assert forced.promoted
    assert forced.forced
    assert [r.stage for r in await registry.list()].count("production") == 1
    assert await decisions(registry) == [
        (first.version, True, False),
        (worse.version, False, False),
        (close.version, True, False),
        (worse.version, True, True),
    ]


async def test_models_tested_on_different_splits_are_compared_by_rescoring(
    registry: Registry, tmp_path: Path
) -> None:
    base = await register(registry, tmp_path, "base", 0.70, split="split-a")
    other = await register(registry, tmp_path, "other", 0.62, split="split-b")
    await registry.promote("genres", base.version)

    blind = await registry.promote("genres", other.version)
    assert not blind.promoted
    assert "different splits" in blind.reason

    rescored: list[tuple[str, str]] = []

    async def rescore(production: ModelRecord, candidate: ModelRecord) -> float:
        rescored.append((production.version, candidate.version))
        return 0.61  # production does worse on the candidate's (harder) split

    fair = await registry.promote("genres", other.version, rescore=rescore)
    assert fair.promoted
    assert fair.production_macro_f1 == 0.61
    assert rescored == [(base.version, other.version)]
