"""The model registry: versions in Postgres, artifacts in the object store, gated promotion.

Every trained model gets a version row (kind, metrics, data card hash, parameters, where
its folder and its dataset live) in stage ``candidate``. Promotion to ``production`` is
gated: the candidate's test macro-F1 must not be worse than production's on the *same*
test split, minus a tolerance, unless forced. Every decision, taken or refused, is
written to ``model_promotions``. At most one production model per name (a unique index).
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from services.classifier.artifact import MANIFEST
from trendkit.contracts import now_utc
from trendkit.db.database import Database
from trendkit.db.models import ModelPromotion, ModelVersion
from trendkit.objectstore import ObjectStore, get_tree, put_tree

DEFAULT_NAME = "genres"


class RegistryError(LookupError):
    """An unknown model, or a request the registry cannot honour; says which and why."""


@dataclass(frozen=True)
class ModelRecord:
    """One registered version, as stored."""

    name: str
    version: str
    kind: str
    stage: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    data_card_hash: str | None
    dataset_uri: str | None
    artifact_uri: str | None
    created_at: str
    promoted_at: str | None

    @property
    def macro_f1(self) -> float | None:
        """Return the test macro-F1 recorded at training time."""
        value = self.metrics.get("macro_f1")
        return float(value) if value is not None else None

    @property
    def test_split_hash(self) -> str | None:
        """Return the hash of the test split the metrics were computed on."""
        value = self.metrics.get("test_split_hash")
        return str(value) if value else None


def _record(row: ModelVersion) -> ModelRecord:
    return ModelRecord(
        name=row.name,
        version=row.version,
        kind=row.kind,
        stage=row.stage,
        metrics=dict(row.metrics or {}),
        params=dict(row.params or {}),
        data_card_hash=row.data_card_hash,
        dataset_uri=row.dataset_uri,
        artifact_uri=row.artifact_uri,
        created_at=row.created_at.isoformat(),
        promoted_at=row.promoted_at.isoformat() if row.promoted_at else None,
    )


@dataclass(frozen=True)
class Decision:
    """What a promotion request came to."""

    name: str
    version: str
    promoted: bool
    forced: bool
    previous_version: str | None
    candidate_macro_f1: float | None
    production_macro_f1: float | None
    tolerance: float
    reason: str


# Scores the production model on the candidate's test split, when their splits differ.
Rescore = Callable[[ModelRecord, ModelRecord], Awaitable[float]]


def folder_digest(directory: Path) -> str:
    """Hash every file of a model folder (names and bytes): equal folders, equal digests."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:8]


def model_key(name: str, version: str) -> str:
    """Return the object-store prefix of a version's folder."""
    return f"models/{name}/{version}"


class Registry:
    """Register, find, download and promote model versions."""

    def __init__(self, db: Database, store: ObjectStore) -> None:
        self.db = db
        self.store = store

    async def register(
        self,
        model_dir: Path,
        *,
        kind: str,
        metrics: dict[str, Any],
        params: dict[str, Any],
        data_card_hash: str | None,
        dataset_uri: str | None = None,
        name: str = DEFAULT_NAME,
    ) -> ModelRecord:
        """Upload a model folder and record it as a candidate; return its record."""
        manifest = model_dir / MANIFEST
        if not manifest.is_file():
            raise RegistryError(f"{model_dir}: not a model folder (no {MANIFEST})")
        stamp = now_utc().strftime("%Y%m%dT%H%M%S")
        version = f"{kind}-{stamp}-{await asyncio.to_thread(folder_digest, model_dir)}"
        uri = await put_tree(self.store, model_key(name, version), model_dir)
        async with self.db.transaction() as session:
            row = ModelVersion(
                version=version,
                name=name,
                kind=kind,
                stage="candidate",
                metrics=metrics,
                params=params,
                data_card_hash=data_card_hash,
                dataset_uri=dataset_uri,
                artifact_uri=uri,
            )
            session.add(row)
        return await self.get(name, version)

    async def list(self, name: str | None = None) -> list[ModelRecord]:
        """Return every version (of one name), newest first."""
        query = select(ModelVersion).order_by(ModelVersion.created_at.desc())
        if name is not None:
            query = query.where(ModelVersion.name == name)
        async with self.db.transaction() as session:
            return [_record(r) for r in (await session.scalars(query)).all()]

    async def get(self, name: str, version: str) -> ModelRecord:
        """Return one version; RegistryError if there is no such model."""
        async with self.db.transaction() as session:
            row = await session.get(ModelVersion, version)
        if row is None or row.name != name:
            raise RegistryError(f"no model {name} {version} in the registry")
        return _record(row)

    async def production(self, name: str = DEFAULT_NAME) -> ModelRecord | None:
        """Return the production version of a name, if there is one."""
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(ModelVersion).where(
                    ModelVersion.name == name, ModelVersion.stage == "production"
                )
            )
        return _record(row) if row is not None else None

    async def download(self, record: ModelRecord, directory: Path | None = None) -> Path:
        """Fetch a version's folder from the object store (into a new temporary folder)."""
        target = directory or Path(tempfile.mkdtemp(prefix=f"{record.version}-"))
        return await get_tree(self.store, model_key(record.name, record.version), target)

    async def promote(
        self,
        name: str,
        version: str,
        *,
        tolerance: float = 0.01,
        force: bool = False,
        rescore: Rescore | None = None,
    ) -> Decision:
        """Promote a version if the gate allows it (or ``force``); record the decision."""
        candidate = await self.get(name, version)
        current = await self.production(name)
        decision = await self._judge(candidate, current, tolerance, force, rescore)
        async with self.db.transaction() as session:
            if decision.promoted:
                if current is not None:
                    await session.execute(
                        update(ModelVersion)
                        .where(ModelVersion.version == current.version)
                        .values(stage="archived")
                    )
                    # The unique index allows one production row: archive before promoting.
                    await session.flush()
                await session.execute(
                    update(ModelVersion)
                    .where(ModelVersion.version == version)
                    .values(stage="production", promoted_at=now_utc())
                )
            session.add(
                ModelPromotion(
                    name=name,
                    version=version,
                    previous_version=decision.previous_version,
                    promoted=decision.promoted,
                    forced=decision.forced,
                    candidate_macro_f1=decision.candidate_macro_f1,
                    production_macro_f1=decision.production_macro_f1,
                    tolerance=tolerance,
                    reason=decision.reason,
                )
            )
        return decision

    async def _judge(
        self,
        candidate: ModelRecord,
        current: ModelRecord | None,
        tolerance: float,
        force: bool,
        rescore: Rescore | None,
    ) -> Decision:
        def decide(promoted: bool, reason: str, production_f1: float | None = None) -> Decision:
            return Decision(
                name=candidate.name,
                version=candidate.version,
                promoted=promoted,
                forced=force,
                previous_version=current.version if current else None,
                candidate_macro_f1=candidate.macro_f1,
                production_macro_f1=production_f1,
                tolerance=tolerance,
                reason=reason,
            )

        if current is not None and current.version == candidate.version:
            return decide(False, "already in production", current.macro_f1)
        if force:
            return decide(True, "forced: the gate was not applied")
        if current is None:
            return decide(True, "no production model yet")
        if candidate.macro_f1 is None:
            return decide(False, "the candidate has no test macro-F1 to compare")
        if current.test_split_hash and current.test_split_hash == candidate.test_split_hash:
            production_f1 = current.macro_f1
            where = "on the same test split"
        elif rescore is not None:
            production_f1 = await rescore(current, candidate)
            where = "re-scored on the candidate's test split"
        else:
            return decide(
                False,
                "the two models were tested on different splits and production could not be "
                "re-scored on the candidate's; retrain on the same data, or force",
            )
        if production_f1 is None:
            return decide(False, "production has no test macro-F1 to compare")
        if candidate.macro_f1 >= production_f1 - tolerance:
            return decide(
                True,
                f"macro-F1 {candidate.macro_f1:.4f} vs production {production_f1:.4f} {where}",
                production_f1,
            )
        return decide(
            False,
            f"macro-F1 {candidate.macro_f1:.4f} is worse than production {production_f1:.4f} "
            f"{where} by more than the tolerance {tolerance:g}",
            production_f1,
        )
