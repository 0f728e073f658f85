"""Train, evaluate and save a genre model: what ``trending train`` and ``dvc repro`` run.

One run: the dataset (a built folder, a file, or Postgres) → the model (XGBoost, the
fine-tuned transformer, or their ensemble) → its evaluation on the test split (report
JSON and plots) → a model folder whose manifest records the metrics and the data card.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from services.classifier.artifact import GenreModel, Manifest, decide
from services.classifier.data import Dataset
from services.classifier.datasets import DataCard, Split
from services.classifier.evaluation import EvaluationReport, evaluate, write_plots
from trendkit.data_profile import build_profile, write_profile

log = logging.getLogger(__name__)
Kind = Literal["xgboost", "bert", "ensemble"]
KINDS: tuple[Kind, ...] = ("xgboost", "bert", "ensemble")
Progress = Callable[[str, float], None]
REPORT_DIR = "report"


@dataclass
class TrainingRun:
    """What a run produced."""

    kind: Kind
    model: GenreModel
    report: EvaluationReport
    model_dir: Path
    params: dict[str, Any]
    card: DataCard


def _params(cls: type[Any], overrides: Mapping[str, Any] | None) -> Any:
    """Build a params dataclass from defaults and overrides, refusing unknown names."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} parameters: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known))})"
        )
    return cls(**(overrides or {}))


def fit(
    kind: Kind,
    splits: Mapping[Split, Dataset],
    params: Mapping[str, Mapping[str, Any]],
    progress: Progress | None = None,
) -> tuple[GenreModel, dict[str, Any]]:
    """Train a model of ``kind`` on train, tuned on val; return it and the params used."""
    train, val = splits["train"], splits["val"]
    if kind == "xgboost":
        from services.classifier.xgboost_model import XGBoostParams, train_xgboost

        xgb_params = _params(XGBoostParams, params.get("xgboost"))
        return train_xgboost(train, val, xgb_params, progress), {
            "xgboost": dataclasses.asdict(xgb_params)
        }
    if kind == "bert":
        from services.classifier.transformer_model import TransformerParams, train_transformer

        bert_params = _params(TransformerParams, params.get("bert"))
        return train_transformer(train, val, bert_params, progress), {
            "bert": dataclasses.asdict(bert_params)
        }
    from services.classifier.ensemble import build_ensemble

    members: list[GenreModel] = []
    used: dict[str, Any] = {}
    for member in ("xgboost", "bert"):
        model, member_params = fit(member, splits, params, progress)
        members.append(model)
        used.update(member_params)
    return build_ensemble(members, val), used


def score(model: GenreModel, dataset: Dataset) -> EvaluationReport:
    """Evaluate a model on a dataset, over the labels present in it."""
    labels = list(model.labels)
    proba = np.asarray(model.predict_proba(dataset.rows))
    llm = [set(r.llm_genres) if r.llm_genres is not None else None for r in dataset.rows]
    return evaluate(dataset.label_matrix(labels), proba, model.thresholds, labels, llm=llm)


def run(
    kind: Kind,
    splits: Mapping[Split, Dataset],
    card: DataCard,
    output: Path,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Progress | None = None,
) -> TrainingRun:
    """Train, evaluate on test, save the model folder with its report under ``output``."""
    model, used = fit(kind, splits, params or {}, progress)
    report = score(model, splits["test"])
    metrics = {**report.to_json(), "test_split_hash": card.test_split_hash}
    model_dir = output
    model.save(
        model_dir,
        Manifest(
            kind=kind,
            labels=list(model.labels),
            thresholds=[float(t) for t in model.thresholds],
            params=used,
            data_card_hash=card.content_hash,
            metrics=metrics,
        ),
    )
    write_reference_profile(model, splits, model_dir)
    report_dir = model_dir / REPORT_DIR
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    (report_dir / "data_card.json").write_text(card.to_json())
    test = splits["test"]
    write_plots(
        report,
        test.label_matrix(list(model.labels)),
        np.asarray(model.predict_proba(test.rows)),
        report_dir,
    )
    track(kind, used, metrics, report_dir)
    return TrainingRun(kind, model, report, model_dir, used, card)


# Held-out rows whose model outputs make the drift reference; caps the extra inference.
PROFILE_HELD_OUT_ROWS = 2000


def write_reference_profile(
    model: GenreModel, splits: Mapping[Split, Dataset], model_dir: Path
) -> Path:
    """Store a profile of the training data with the model: the drift service's reference.

    Data features come from the train split. Model outputs (confidence, predicted genres)
    come from the held-out val and test rows, since on its own training rows a model is
    more confident than it will be in service. Format and binning: docs/drift.md.
    """
    train = splits["train"].rows
    held_out = [*splits["val"].rows, *splits["test"].rows][:PROFILE_HELD_OUT_ROWS]
    labels = list(model.labels)
    proba = np.zeros((0, len(labels)))
    if held_out:
        proba = np.asarray(model.predict_proba(held_out), dtype=np.float64)
    chosen = decide(proba.astype(np.float32), model.thresholds)
    predicted = [[labels[j] for j in np.flatnonzero(row)] for row in chosen]
    profile = build_profile(
        numeric={
            "overview_length": [len(r.overview) for r in train],
            "confidence": proba.max(axis=1).tolist() if labels else [],
        },
        categorical={
            "media_type": [r.media_type for r in train],
            "title_genres": [list(r.genres) for r in train],
            "llm_genres": [list(r.llm_genres) for r in train if r.llm_genres is not None],
            "predicted_genres": predicted,
        },
        multi=("title_genres", "llm_genres", "predicted_genres"),
        source={"kind": "training", "train_rows": len(train), "held_out_rows": len(held_out)},
    )
    return write_profile(model_dir, profile)


def track(kind: str, params: Mapping[str, Any], metrics: Mapping[str, Any], plots: Path) -> None:
    """Log the run to Weights & Biases when configured (WANDB_PROJECT or WANDB_MODE).

    ``WANDB_MODE=offline`` works with no account: the run is written under ./wandb and
    can be synced later with ``wandb sync``.
    """
    if not (os.environ.get("WANDB_PROJECT") or os.environ.get("WANDB_MODE")):
        return
    import wandb

    scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    with wandb.init(
        project=os.environ.get("WANDB_PROJECT", "trending-now"),
        job_type="train",
        config={"kind": kind, **params},
        tags=[kind],
    ) as tracked:
        tracked.log(
            {
                **scalars,
                **{
                    f"per_label/{label}/f1": values["f1"]
                    for label, values in metrics.get("per_label", {}).items()
                },
                **{f"plots/{p.stem}": wandb.Image(str(p)) for p in sorted(plots.glob("*.png"))},
            }
        )
        tracked.summary.update(scalars)
