"""How good a genre model is on labelled rows: F1 figures, LLM agreement, and plots.

Macro-F1 is the figure models are compared and promoted on: every genre counts the same,
so a model cannot win by getting Drama right and ignoring Westerns. It averages over the
labels that occur in the rows (a genre the rows never show cannot be judged); micro- and
support-weighted F1 come along. Agreement with the LLM's genres is measured apart: the
LLM is a second opinion, not the truth.

Plots are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend), so
they work headless and in threads.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray
from sklearn.metrics import precision_recall_curve

from services.classifier.artifact import decide

LlmGenres = Sequence[Collection[str] | None]


@dataclass(frozen=True)
class LabelScores:
    """One label's figures at its threshold."""

    precision: float
    recall: float
    f1: float
    support: int
    threshold: float


@dataclass(frozen=True)
class LlmAgreement:
    """How often the model's genres match the LLM's, over the rows the LLM labelled."""

    rows: int
    mean_jaccard: float  # |model ∩ llm| / |model ∪ llm|, 1 when both are empty
    exact_match: float  # share of rows with the very same genres
    per_label: dict[str, float]  # share of rows where both say yes or both say no


@dataclass(frozen=True)
class EvaluationReport:
    """A model's figures on one set of rows."""

    macro_f1: float
    micro_f1: float
    weighted_f1: float
    per_label: dict[str, LabelScores]
    labels: list[str]
    rows: int
    llm_agreement: LlmAgreement | None

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "macro_f1": self.macro_f1,
            "micro_f1": self.micro_f1,
            "weighted_f1": self.weighted_f1,
            "per_label": {label: asdict(s) for label, s in self.per_label.items()},
            "labels": list(self.labels),
            "rows": self.rows,
            "llm_agreement": asdict(self.llm_agreement) if self.llm_agreement else None,
        }


def _ratio(num: NDArray[Any], den: NDArray[Any]) -> NDArray[np.float64]:
    """Return num / den, 0 where den is 0 (scikit-learn's ``zero_division=0``)."""
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


def evaluate(
    y_true: NDArray[np.integer],
    proba: NDArray[np.floating],
    thresholds: NDArray[np.float64],
    labels: Sequence[str],
    *,
    llm: LlmGenres | None = None,
) -> EvaluationReport:
    """Score probabilities against reference labels at per-label thresholds."""
    if y_true.shape != proba.shape or len({y_true.shape[1], len(labels), len(thresholds)}) > 1:
        raise ValueError(
            f"shapes disagree: labels {y_true.shape}, probabilities {proba.shape}, "
            f"{len(labels)} names, {len(thresholds)} thresholds"
        )
    truth = y_true.astype(bool)
    predicted = decide(np.asarray(proba, dtype=np.float32), thresholds).astype(bool)
    tp = (truth & predicted).sum(axis=0)
    fp = (~truth & predicted).sum(axis=0)
    fn = (truth & ~predicted).sum(axis=0)
    support = truth.sum(axis=0)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    present = support > 0
    return EvaluationReport(
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        micro_f1=float(_ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum())),
        weighted_f1=float((f1 * support).sum() / support.sum()) if present.any() else 0.0,
        per_label={
            label: LabelScores(
                float(precision[j]),
                float(recall[j]),
                float(f1[j]),
                int(support[j]),
                float(thresholds[j]),
            )
            for j, label in enumerate(labels)
        },
        labels=list(labels),
        rows=len(y_true),
        llm_agreement=llm_agreement(predicted, labels, llm) if llm is not None else None,
    )


def llm_agreement(
    predicted: NDArray[np.bool_], labels: Sequence[str], llm: LlmGenres
) -> LlmAgreement | None:
    """Compare decisions with the LLM's genres (restricted to ``labels``) where it gave any."""
    if len(llm) != len(predicted):
        raise ValueError(f"{len(llm)} LLM answers for {len(predicted)} rows")
    rows = [i for i, genres in enumerate(llm) if genres is not None]
    if not rows:
        return None
    index = {label: j for j, label in enumerate(labels)}
    theirs = np.zeros((len(rows), len(labels)), dtype=bool)
    for r, i in enumerate(rows):
        for genre in llm[i] or ():
            if genre in index:
                theirs[r, index[genre]] = True
    ours = predicted[rows]
    both = (ours & theirs).sum(axis=1)
    either = (ours | theirs).sum(axis=1)
    return LlmAgreement(
        rows=len(rows),
        mean_jaccard=float(np.where(either > 0, both / np.maximum(either, 1), 1.0).mean()),
        exact_match=float((ours == theirs).all(axis=1).mean()),
        per_label={
            label: float((ours[:, j] == theirs[:, j]).mean()) for j, label in enumerate(labels)
        },
    )


def write_plots(
    report: EvaluationReport,
    y_true: NDArray[np.integer],
    proba: NDArray[np.floating],
    directory: Path,
) -> list[Path]:
    """Draw the report's PNGs into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    thresholds = np.array([report.per_label[label].threshold for label in report.labels])
    predicted = decide(np.asarray(proba, dtype=np.float32), thresholds)
    drawn = {
        "f1_per_label.png": _f1_bars(report),
        "precision_recall.png": _pr_curves(report, y_true, proba),
        "label_cooccurrence.png": _heatmap(
            _conditional(y_true, y_true),
            report.labels,
            "Reference genres: share of row-genre titles that also have column-genre",
        ),
        "predicted_vs_true.png": _heatmap(
            _conditional(y_true, predicted),
            report.labels,
            "Share of titles with row-genre (reference) that the model labels column-genre",
        ),
    }
    paths = []
    for name, figure in drawn.items():
        FigureCanvasAgg(figure)  # the figure draws with Agg: no display, no global backend
        figure.savefig(directory / name, format="png")
        paths.append(directory / name)
    return paths


def _conditional(rows: NDArray[np.integer], columns: NDArray[np.integer]) -> NDArray[np.float64]:
    """Return M[i, j] = share of titles with label i (in ``rows``) that have j in ``columns``."""
    joint = rows.astype(np.float64).T @ columns.astype(np.float64)
    return _ratio(joint, rows.sum(axis=0)[:, np.newaxis])


def _f1_bars(report: EvaluationReport) -> Figure:
    order = sorted(report.labels, key=lambda label: report.per_label[label].f1)
    figure = Figure(figsize=(7, 0.3 * len(order) + 1.2), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(
        [f"{label} (n={report.per_label[label].support})" for label in order],
        [report.per_label[label].f1 for label in order],
        color="#4878a8",
    )
    axes.axvline(report.macro_f1, color="#c44e52", linestyle="--", label="macro-F1")
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 at the label's threshold")
    axes.set_title(f"F1 per genre ({report.rows} titles, macro-F1 {report.macro_f1:.3f})")
    axes.legend(loc="lower right")
    return figure


def _pr_curves(
    report: EvaluationReport, y_true: NDArray[np.integer], proba: NDArray[np.floating]
) -> Figure:
    shown = [j for j, label in enumerate(report.labels) if report.per_label[label].support > 0]
    columns = min(6, max(len(shown), 1))
    rows = max(math.ceil(len(shown) / columns), 1)
    figure = Figure(figsize=(2.4 * columns, 2.2 * rows), layout="constrained")
    for k, j in enumerate(shown):
        label = report.labels[j]
        scores = report.per_label[label]
        precision, recall, _ = precision_recall_curve(y_true[:, j], proba[:, j])
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.plot(recall, precision, color="#4878a8", linewidth=1)
        axes.plot(scores.recall, scores.precision, "o", color="#c44e52", markersize=4)
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
        axes.set_title(f"{label} (F1 {scores.f1:.2f})", fontsize=8)
        axes.tick_params(labelsize=6)
    figure.suptitle("Precision (y) against recall (x); the dot: the tuned threshold")
    return figure


def _heatmap(matrix: NDArray[np.float64], labels: Sequence[str], title: str) -> Figure:
    size = 0.38 * len(labels) + 2.5
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.8)
    return figure
