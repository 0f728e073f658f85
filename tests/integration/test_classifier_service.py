"""The classifier as a real process: the registry's model in service, swapped mid-stream.

Two models are trained on the project's authored data and registered; the first is in
production when the classifier starts. While titles stream in, the second is promoted:
outputs switch to its version without a restart, and every input comes out exactly
once, stamped with the version that classified it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.classifier import datasets
from services.classifier.bootstrap import DEMO_DATA, DEMO_PARAMS
from services.classifier.registry import ModelRecord, Registry
from services.classifier.training import run
from tests.factories import title_enriched
from tests.kafka_io import Reader, produce, services
from trendkit.contracts import TITLES_CLASSIFIED, TITLES_ENRICHED, TitleClassified
from trendkit.db.database import Database
from trendkit.db.models import ClassificationRow
from trendkit.objectstore import open_object_store
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

OVERVIEWS = [
    "A detective hunts a killer through the fog of a harbour town.",
    "Two friends open a bakery and fall for the same baker.",
    "Astronauts stranded on a moon base ration their last oxygen.",
    "A cursed doll wakes the family every night at three.",
]


@pytest.fixture
async def registry(settings: CommonSettings) -> AsyncIterator[Registry]:
    db = Database(settings.database_url, service="test-classifier")
    store = open_object_store(settings.object_store_url)
    await db.open()
    yield Registry(db, store)
    await store.close()
    await db.close()


async def train_and_register(
    registry: Registry, tmp_path: Path, name: str, rounds: int
) -> ModelRecord:
    splits, card = datasets.build(datasets.read_file(DEMO_DATA))
    trained = await asyncio.to_thread(
        run,
        "xgboost",
        splits,
        card,
        tmp_path / name,
        {"xgboost": {**DEMO_PARAMS["xgboost"], "n_estimators": rounds}},
    )
    return await registry.register(
        trained.model_dir,
        kind="xgboost",
        metrics={**trained.report.to_json(), "test_split_hash": card.test_split_hash},
        params=trained.params,
        data_card_hash=card.content_hash,
    )


async def test_a_promotion_mid_stream_switches_versions_and_loses_nothing(
    settings: CommonSettings, tmp_path: Path, registry: Registry
) -> None:
    first = await train_and_register(registry, tmp_path, "first", 40)
    second = await train_and_register(registry, tmp_path, "second", 80)
    await registry.promote("genres", first.version)
    events = [
        title_enriched(name=f"Stream Title {i}", overview=OVERVIEWS[i % len(OVERVIEWS)])
        for i in range(240)
    ]
    env = {"CLASSIFIER_POLL_S": "0.5", "CLASSIFIER_MODEL_CACHE_DIR": str(tmp_path / "cache")}
    with services(settings, ["classifier"], tmp_path, env=env):
        async with Reader(settings, TITLES_CLASSIFIED) as reader:
            for i in range(0, len(events), 20):
                await produce(settings, TITLES_ENRICHED, events[i : i + 20])
                if i == 100:
                    await registry.promote("genres", second.version, force=True)
                await asyncio.sleep(0.25)
            want = {e.event_id for e in events}

            def all_out(records: list) -> bool:  # type: ignore[type-arg]
                return want <= {
                    TitleClassified.model_validate_json(r.value).source_event_id for r in records
                }

            records = await reader.until(all_out, within=90)
    outputs = [TitleClassified.model_validate_json(r.value) for r in records]
    by_input: dict[str, set[str]] = defaultdict(set)
    for out in outputs:
        by_input[out.source_event_id].add(out.event_id)
    assert set(by_input) == want
    assert all(len(ids) == 1 for ids in by_input.values())  # one output per input

    versions = [out.classification.provenance.version for out in outputs]
    assert set(versions) == {first.version, second.version}
    # Per partition, in order: once the new version appears, the old one never returns.
    per_partition: dict[int, list[str]] = defaultdict(list)
    for record, out in zip(records, outputs, strict=True):
        per_partition[record.partition].append(out.classification.provenance.version)
    for seen in per_partition.values():
        if second.version in seen:
            switched = seen.index(second.version)
            assert set(seen[switched:]) == {second.version}
    assert all(set(o.classification.genres) <= set(o.classification.probabilities) for o in outputs)

    async with registry.db.transaction() as session:
        stored = await session.scalar(select(func.count(ClassificationRow.event_id)))
    assert stored == len(events)
