"""A trained genre model on disk: a folder with ``model.json`` and the model's own files.

``model.json`` says what the folder holds (kind, labels, per-label thresholds, training
parameters, the data card's hash); each kind reads and writes the rest itself. The
registry stores such folders in the object store and loads them by kind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from services.classifier.data import TitleText

MANIFEST = "model.json"


class ArtifactError(ValueError):
    """A model folder that cannot be loaded; the message names the folder and the problem."""


@dataclass
class Manifest:
    """What every model folder says about itself."""

    kind: str
    labels: list[str]
    thresholds: list[float]
    params: dict[str, Any] = field(default_factory=dict)
    data_card_hash: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def write(self, directory: Path) -> None:
        """Write ``model.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def read(cls, directory: Path, kind: str | None = None) -> Manifest:
        """Read ``model.json``; raise ArtifactError naming the folder if it is not there,
        or, when ``kind`` is given, if it holds another kind of model.
        """
        path = directory / MANIFEST
        if not path.is_file():
            raise ArtifactError(f"{directory}: not a model folder (no {MANIFEST})")
        try:
            manifest = cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise ArtifactError(f"{path}: unreadable manifest: {exc}") from exc
        if kind is not None and manifest.kind != kind:
            raise ArtifactError(f"{directory}: a {manifest.kind!r} model, not {kind!r}")
        return manifest


class GenreModel(Protocol):
    """A trained multi-label genre model."""

    kind: ClassVar[str]
    labels: tuple[str, ...]
    thresholds: NDArray[np.float64]

    def predict_proba(self, titles: Sequence[TitleText]) -> NDArray[np.float32]:
        """Return a (titles × labels) matrix of probabilities."""
        ...

    def save(self, directory: Path, manifest: Manifest) -> None:
        """Write the model's files and ``manifest`` into ``directory``."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model back from a folder ``save`` wrote."""
        ...


def decide(proba: NDArray[np.float32], thresholds: NDArray[np.float64]) -> NDArray[np.int8]:
    """Turn probabilities into 0/1 genres with per-label thresholds."""
    return (proba >= thresholds[np.newaxis, :]).astype(np.int8)
