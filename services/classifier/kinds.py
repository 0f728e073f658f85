"""Which class reads which kind of model folder; heavy libraries load only when needed."""

from __future__ import annotations

import importlib
from pathlib import Path

from services.classifier.artifact import ArtifactError, GenreModel, Manifest

# kind → (module, class): imported on first use, so serving XGBoost never imports torch.
KINDS: dict[str, tuple[str, str]] = {
    "xgboost": ("services.classifier.xgboost_model", "XGBoostGenreModel"),
    "bert": ("services.classifier.transformer_model", "TransformerGenreModel"),
    "ensemble": ("services.classifier.ensemble", "EnsembleGenreModel"),
}


def model_class(kind: str) -> type[GenreModel]:
    """Return the class of a model kind."""
    if kind not in KINDS:
        raise ArtifactError(f"unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    module, name = KINDS[kind]
    cls: type[GenreModel] = getattr(importlib.import_module(module), name)
    return cls


def load_model(directory: Path) -> GenreModel:
    """Load a model folder of any kind, as its manifest says."""
    return model_class(Manifest.read(directory).kind).load(directory)
