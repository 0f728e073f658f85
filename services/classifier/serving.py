"""Serve the registry's production model, swap to a newly promoted one without a restart.

The holder polls the registry; when the production version changes it downloads and
loads the new model off the event loop, then swaps one reference. A batch is classified
by whichever model the reference held when the batch began, so a swap never splits a
batch and no message waits for it (consumption goes on while the new model loads).

Shadow mode runs a candidate beside production on every batch and records how often the
two agree, without publishing what the candidate says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.classifier.artifact import GenreModel
from services.classifier.data import TitleText
from services.classifier.domain import KeywordBaselineModel, ServingModel, chosen_genres
from services.classifier.kinds import load_model
from services.classifier.registry import ModelRecord, Registry
from trendkit.contracts import Provenance
from trendkit.taxonomy import GENRES

log = logging.getLogger(__name__)
NEVER = 2.0  # the threshold of a genre a model was not trained on: never chosen


class RegisteredModel:
    """A trained model from the registry, answering over the whole taxonomy."""

    def __init__(self, model: GenreModel, record: ModelRecord) -> None:
        self.model = model
        self.record = record
        self.provenance = Provenance(
            provider=record.kind, model=record.name, version=record.version
        )
        self._columns = [
            (GENRES.index(label), i) for i, label in enumerate(model.labels) if label in GENRES
        ]
        self._thresholds = dict.fromkeys(GENRES, NEVER)
        for label, threshold in zip(model.labels, model.thresholds, strict=True):
            if label in self._thresholds:
                self._thresholds[label] = float(threshold)

    def predict(self, titles: Sequence[TitleText]) -> list[dict[str, float]]:
        """Return probabilities over every taxonomy genre (0 where the model has no label)."""
        proba = np.asarray(self.model.predict_proba(titles), dtype=np.float64)
        full = np.zeros((len(titles), len(GENRES)))
        for genre_index, column in self._columns:
            full[:, genre_index] = proba[:, column]
        return [dict(zip(GENRES, np.round(row, 4).tolist(), strict=True)) for row in full]

    def threshold(self, genre: str) -> float:
        """Return the threshold tuned on validation for this genre."""
        return self._thresholds.get(genre, NEVER)


@dataclass
class ServingMetrics:
    """What the classifier says about the models it serves."""

    registry: CollectorRegistry
    info: Gauge = field(init=False)
    swaps: Counter = field(init=False)
    shadow_agreement: Histogram = field(init=False)
    shadow_titles: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.info = Gauge(
            "trending_model_info",
            "The model serving (1) or shadowing (role=shadow) in this classifier",
            ["role", "kind", "version"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "trending_model_swaps",
            "Times a newly promoted model was swapped in",
            registry=self.registry,
        )
        self.shadow_agreement = Histogram(
            "trending_shadow_agreement",
            "Per-title Jaccard agreement of the shadow model's genres with production's",
            buckets=(0.0, 0.25, 0.5, 0.75, 0.99, 1.0),
            registry=self.registry,
        )
        self.shadow_titles = Counter(
            "trending_shadow_titles",
            "Titles the shadow model also classified",
            registry=self.registry,
        )


class ModelHolder:
    """The model in service (and the shadow), kept in step with the registry."""

    def __init__(
        self,
        registry: Registry,
        *,
        name: str,
        metrics: ServingMetrics,
        cache_dir: Path,
        shadow: bool = False,
        shadow_version: str | None = None,
    ) -> None:
        self.registry = registry
        self.name = name
        self.metrics = metrics
        self.cache_dir = cache_dir
        self.shadow_wanted = shadow
        self.shadow_version = shadow_version
        self.current: ServingModel = KeywordBaselineModel()
        self.shadow: RegisteredModel | None = None
        self._show(self.current, "production")

    async def refresh(self) -> bool:
        """Load production (and the shadow) if the registry moved on; True if swapped."""
        swapped = False
        record = await self.registry.production(self.name)
        if record is not None and record.version != self.current.provenance.version:
            loaded = await self._load(record)
            previous, self.current = self.current, loaded  # the swap: one assignment
            self._forget(previous, "production")
            self._show(loaded, "production")
            self.metrics.swaps.inc()
            log.info("now serving %s %s (%s)", record.name, record.version, record.kind)
            swapped = True
        if self.shadow_wanted:
            await self._refresh_shadow()
        return swapped

    async def watch(self, every_s: float) -> None:
        """Refresh forever; a failed refresh is logged and retried, serving goes on."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.refresh()
            except Exception:
                log.exception(
                    "model refresh failed; still serving %s", self.current.provenance.version
                )

    def compare(self, titles: Sequence[TitleText], served: Sequence[dict[str, float]]) -> None:
        """Score the shadow on the same titles; record agreement with what was served."""
        if self.shadow is None or not titles:
            return
        for probs, shadow_probs in zip(served, self.shadow.predict(titles), strict=True):
            ours = set(chosen_genres(probs, self.current))
            theirs = set(chosen_genres(shadow_probs, self.shadow))
            union = ours | theirs
            self.metrics.shadow_agreement.observe(len(ours & theirs) / len(union) if union else 1.0)
        self.metrics.shadow_titles.inc(len(titles))

    async def _refresh_shadow(self) -> None:
        record = await self._shadow_record()
        if record is None or (self.shadow and self.shadow.record.version == record.version):
            return
        if self.shadow is not None:
            self._forget(self.shadow, "shadow")
        self.shadow = await self._load(record)
        self._show(self.shadow, "shadow")
        log.info("shadowing %s %s", record.name, record.version)

    async def _shadow_record(self) -> ModelRecord | None:
        if self.shadow_version:
            return await self.registry.get(self.name, self.shadow_version)
        candidates = [r for r in await self.registry.list(self.name) if r.stage == "candidate"]
        return candidates[0] if candidates else None  # the newest

    async def _load(self, record: ModelRecord) -> RegisteredModel:
        folder = self.cache_dir / record.version
        if not folder.exists():
            await self.registry.download(record, folder)
        model = await asyncio.to_thread(load_model, folder)
        return RegisteredModel(model, record)

    def _show(self, model: ServingModel, role: str) -> None:
        p = model.provenance
        self.metrics.info.labels(role, p.provider, p.version).set(1)

    def _forget(self, model: ServingModel, role: str) -> None:
        p = model.provenance
        self.metrics.info.remove(role, p.provider, p.version)
