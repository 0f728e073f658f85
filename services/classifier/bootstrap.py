"""The demo's first model: trained from the project's authored data when none is in service.

``trending up`` calls this before the services start, so the live demo classifies with a
trained XGBoost model from its first batch instead of the keyword baseline. The data is
``services/classifier/demo/authored_genres.csv`` (written for this project; see its
README). Training takes seconds; a registry that already has a production model is left
as it is.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from services.classifier import datasets
from services.classifier.registry import DEFAULT_NAME, ModelRecord, Registry
from services.classifier.training import run
from trendkit.db.database import Database
from trendkit.objectstore import ObjectStore, put_tree

DEMO_DATA = Path(__file__).resolve().parent / "demo" / "authored_genres.csv"
# Quick settings for ~500 rows: one thread (OpenMP threads only wait on each other over
# so little data, worse on a busy machine), three folds, thresholds from validation.
DEMO_PARAMS = {"xgboost": {"n_jobs": 1, "folds": 3, "threshold_rows": "val"}}


async def ensure_production_model(
    db: Database, store: ObjectStore, *, name: str = DEFAULT_NAME, data: Path = DEMO_DATA
) -> tuple[ModelRecord, bool]:
    """Return the production model, training and promoting one first if there is none."""
    registry = Registry(db, store)
    current = await registry.production(name)
    if current is not None:
        return current, False
    splits, card = datasets.build(datasets.read_file(data))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trained = await asyncio.to_thread(
            run, "xgboost", splits, card, folder / "model", DEMO_PARAMS
        )
        built = datasets.write(splits, card, folder / "dataset")
        dataset_uri = await put_tree(store, f"datasets/{card.content_hash[:16]}", built)
        record = await registry.register(
            trained.model_dir,
            kind="xgboost",
            metrics={**trained.report.to_json(), "test_split_hash": card.test_split_hash},
            params=trained.params,
            data_card_hash=card.content_hash,
            dataset_uri=dataset_uri,
            name=name,
        )
    await registry.promote(name, record.version)
    return await registry.get(name, record.version), True
