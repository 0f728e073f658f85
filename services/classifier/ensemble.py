"""A weighted average of genre models: kind ``ensemble``.

Different models err on different titles (the trees on scores of words, the transformer
on meaning), so their averaged probabilities often beat either. The weights and the
per-label thresholds are chosen on the validation split: every weighting on a grid over
the simplex is scored by its macro-F1 under thresholds tuned for it.

The label space is the union of the members'; each label averages the members that
predict it, their weights renormalised, so a member that lacks a genre neither votes
for nor against it.

On disk: ``model.json``, ``ensemble.json`` (members, weights) and each member's own
folder under ``members/``, read back by its kind (``kinds.py``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from services.classifier.artifact import ArtifactError, GenreModel, Manifest, decide
from services.classifier.data import Dataset, TitleText
from services.classifier.kinds import model_class
from services.classifier.thresholds import tune_thresholds

KIND = "ensemble"
CONFIG_FILE = "ensemble.json"
MEMBERS_DIR = "members"
WEIGHT_STEP = 0.1


class EnsembleGenreModel:
    """Members' probabilities, averaged per label with fixed weights."""

    kind: ClassVar[str] = KIND

    def __init__(
        self,
        members: Sequence[GenreModel],
        weights: Sequence[float],
        thresholds: NDArray[np.float64] | None = None,
    ) -> None:
        if not members or len(members) != len(weights):
            raise ValueError(f"{len(members)} members and {len(weights)} weights")
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"weights must be non-negative with a positive sum: {weights}")
        self.members = list(members)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.labels = tuple(dict.fromkeys(label for m in members for label in m.labels))
        self._columns = [
            [m.labels.index(label) if label in m.labels else -1 for label in self.labels]
            for m in members
        ]
        self.thresholds = (
            np.full(len(self.labels), 0.5) if thresholds is None else np.asarray(thresholds)
        )

    def combine(
        self, member_proba: Sequence[NDArray[np.float32]], weights: NDArray[np.float64]
    ) -> NDArray[np.float32]:
        """Average members' probabilities (in their own label order) with ``weights``."""
        rows = len(member_proba[0])
        total = np.zeros((rows, len(self.labels)))
        mass = np.zeros(len(self.labels))
        for proba, columns, weight in zip(member_proba, self._columns, weights, strict=True):
            has = np.asarray(columns) >= 0
            total[:, has] += weight * proba[:, np.asarray(columns)[has]]
            mass[has] += weight
        # a label only zero-weighted members predict: their plain mean, not 0/0
        unweighted = mass == 0
        if unweighted.any():
            fallback = self.combine(member_proba, np.ones(len(self.members)))
            total[:, unweighted] = fallback[:, unweighted]
            mass[unweighted] = 1
        return (total / mass).astype(np.float32)

    def member_proba(self, titles: Sequence[TitleText]) -> list[NDArray[np.float32]]:
        """Return each member's probabilities, in its own label order."""
        return [np.asarray(m.predict_proba(titles), dtype=np.float32) for m in self.members]

    def predict_proba(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        """Return a (titles × labels) matrix of averaged probabilities."""
        if not titles:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.combine(self.member_proba(titles), self.weights)

    def save(self, directory: Path, manifest: Manifest) -> None:
        """Write each member into ``members/<i>-<kind>``, then the weights and manifest."""
        if manifest.kind != KIND or list(manifest.labels) != list(self.labels):
            raise ArtifactError(f"{directory}: the manifest does not describe this model")
        entries = []
        for i, member in enumerate(self.members):
            folder = f"{MEMBERS_DIR}/{i}-{member.kind}"
            member.save(
                directory / folder,
                Manifest(
                    kind=member.kind,
                    labels=list(member.labels),
                    thresholds=[float(t) for t in member.thresholds],
                ),
            )
            entries.append({"kind": member.kind, "folder": folder, "weight": self.weights[i]})
        config = {"labels": list(self.labels), "members": entries}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=float))
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read the members back by kind, then the weights and thresholds."""
        manifest = Manifest.read(directory, kind=KIND)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text())
            entries = [(e["kind"], e["folder"], float(e["weight"])) for e in config["members"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{directory}: unreadable {CONFIG_FILE}: {exc}") from exc
        inside = directory.resolve()
        for _, folder, _ in entries:
            if not (directory / folder).resolve().is_relative_to(inside):
                raise ArtifactError(f"{directory}: member folder {folder!r} is outside the model")
        members = [model_class(kind).load(directory / folder) for kind, folder, _ in entries]
        try:
            model = cls(members, [w for _, _, w in entries], np.asarray(manifest.thresholds))
        except ValueError as exc:
            raise ArtifactError(f"{directory}: {exc}") from exc
        if list(model.labels) != list(manifest.labels):
            raise ArtifactError(f"{directory}: the members' labels disagree with the manifest")
        return model


def weight_grid(members: int, step: float = WEIGHT_STEP) -> list[NDArray[np.float64]]:
    """Return every weighting of ``members`` in multiples of ``step`` that sums to 1."""
    units = round(1 / step)
    return [
        np.array([*parts, units - sum(parts)], dtype=np.float64) / units
        for parts in itertools.product(range(units + 1), repeat=members - 1)
        if sum(parts) <= units
    ]


def build_ensemble(
    members: Sequence[GenreModel], val: Dataset, step: float = WEIGHT_STEP
) -> EnsembleGenreModel:
    """Choose weights, then thresholds, by macro-F1 on ``val``."""
    model = EnsembleGenreModel(members, [1.0] * len(members))
    y_val = val.label_matrix(model.labels)
    present = y_val.any(axis=0)
    member_proba = model.member_proba(val.rows)
    best: tuple[float, float, NDArray[np.float64], NDArray[np.float64]] | None = None
    for weights in weight_grid(len(members), step):
        proba = model.combine(member_proba, weights)
        thresholds = tune_thresholds(y_val, proba)
        score = _macro_f1(y_val[:, present], decide(proba, thresholds)[:, present])
        # on a tie, the more even weighting: it leans less on what val happened to show
        spread = float(np.abs(weights - 1 / len(members)).sum())
        if best is None or (score, -spread) > (best[0], -best[1]):
            best = (score, spread, weights, thresholds)
    assert best is not None  # the grid is never empty
    model.weights, model.thresholds = best[2], best[3]
    return model


def _macro_f1(y_true: NDArray[np.int8], y_pred: NDArray[np.int8]) -> float:
    tp = (y_true & y_pred).sum(axis=0)
    wrong = (y_true ^ y_pred).sum(axis=0)
    return float((2 * tp / np.maximum(2 * tp + wrong, 1)).mean()) if len(tp) else 0.0
