"""Evaluation figures agree with scikit-learn; thresholds are tuned sensibly; plots are drawn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.metrics import f1_score, precision_recall_fscore_support

from services.classifier.evaluation import evaluate, write_plots
from services.classifier.thresholds import DEFAULT_THRESHOLD, tune_thresholds

LABELS = ["Action", "Comedy", "Drama", "Horror", "Western"]
REPORT_KEYS = {
    "macro_f1",
    "micro_f1",
    "weighted_f1",
    "per_label",
    "labels",
    "rows",
    "llm_agreement",
}


def _random(seed: int, rows: int = 120) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    y = (rng.random((rows, len(LABELS))) < [0.4, 0.3, 0.5, 0.1, 0.05]).astype(np.int8)
    y[:, -1] = 0 if seed % 2 else y[:, -1]  # every other case: a label with no positives
    proba = np.clip(0.35 * y + rng.random(y.shape) * 0.7, 0, 1).astype(np.float32)
    return y, proba


@pytest.mark.parametrize("seed", range(6))
def test_figures_match_scikit_learn_on_random_inputs(seed: int) -> None:
    y, proba = _random(seed)
    thresholds = np.random.default_rng(seed).uniform(0.2, 0.8, len(LABELS))
    predicted = (proba >= thresholds).astype(int)
    present = [j for j in range(len(LABELS)) if y[:, j].any()]

    report = evaluate(y, proba, thresholds, LABELS)

    macro = f1_score(y, predicted, average="macro", labels=present, zero_division=0)
    assert report.macro_f1 == pytest.approx(macro)
    assert report.micro_f1 == pytest.approx(f1_score(y, predicted, average="micro"))
    assert report.weighted_f1 == pytest.approx(
        f1_score(y, predicted, average="weighted", zero_division=0)
    )
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, average=None, zero_division=0
    )
    for j, label in enumerate(LABELS):
        scores = report.per_label[label]
        assert (scores.precision, scores.recall, scores.f1) == pytest.approx(
            (precision[j], recall[j], f1[j])
        )
        assert scores.support == support[j]
        assert scores.threshold == pytest.approx(thresholds[j])


def test_figures_on_a_hand_made_case() -> None:
    # Action: 2 true, caught 1 plus 1 false alarm → P=R=F1=0.5; Comedy: perfect;
    # Horror: never there, predicted once → F1 0, and left out of the macro average
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=np.int8)
    proba = np.array(
        [[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.6, 0.9], [0.1, 0.2, 0.1]], dtype=np.float32
    )
    report = evaluate(y, proba, np.full(3, 0.5), ["Action", "Comedy", "Horror"])

    assert report.per_label["Action"].f1 == pytest.approx(0.5)
    assert report.per_label["Comedy"].f1 == pytest.approx(1.0)
    assert report.per_label["Horror"].f1 == 0.0
    assert report.macro_f1 == pytest.approx(0.75)
    assert report.micro_f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert report.rows == 4


def test_report_json_has_exactly_the_documented_keys() -> None:
    y, proba = _random(0)
    report = evaluate(y, proba, np.full(len(LABELS), 0.5), LABELS)

    data = json.loads(json.dumps(report.to_json()))

    assert set(data) == REPORT_KEYS
    assert data["labels"] == LABELS
    assert data["llm_agreement"] is None
    assert set(data["per_label"]["Drama"]) == {"precision", "recall", "f1", "support", "threshold"}


def test_llm_agreement_counts_only_rows_the_llm_labelled() -> None:
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.int8)
    proba = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.1]], dtype=np.float32)
    # model says: {A}, {B}, {A}, {}; the LLM: {A}, none, {A, B}, {} (+ a genre outside)
    llm = [{"A"}, None, {"A", "B"}, {"Anime"}]

    agreement = evaluate(y, proba, np.full(2, 0.5), ["A", "B"], llm=llm).llm_agreement

    assert agreement is not None
    assert agreement.rows == 3
    assert agreement.mean_jaccard == pytest.approx((1 + 0.5 + 1) / 3)
    assert agreement.exact_match == pytest.approx(2 / 3)
    assert agreement.per_label == pytest.approx({"A": 1.0, "B": 2 / 3})


def test_mismatched_shapes_are_refused() -> None:
    y, proba = _random(0)
    with pytest.raises(ValueError, match="shapes disagree"):
        evaluate(y, proba[:, :3], np.full(3, 0.5), LABELS[:3])


def test_thresholds_maximise_f1_and_keep_a_default_where_nothing_can_be_learnt() -> None:
    y = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0]], dtype=np.int8)
    # label 0 is separable anywhere in (0.30, 0.60]; label 1 has no positives; label 2's
    # only positive scores 0, below every cut on the grid
    proba = np.array(
        [[0.7, 0.2, 0.0], [0.6, 0.9, 0.5], [0.3, 0.1, 0.6], [0.2, 0.4, 0.7]], dtype=np.float32
    )

    thresholds = tune_thresholds(y, proba)

    assert 0.30 < thresholds[0] <= 0.60
    assert thresholds[0] == pytest.approx(0.46)  # the middle of the tied run 0.31…0.60
    assert thresholds[1] == DEFAULT_THRESHOLD
    assert thresholds[2] == DEFAULT_THRESHOLD


def _f1(truth: NDArray[np.int8], predicted: NDArray[np.bool_]) -> float:
    tp = int((truth.astype(bool) & predicted).sum())
    return 2 * tp / max(int(truth.sum()) + int(predicted.sum()), 1)


@pytest.mark.parametrize("seed", range(3))
def test_tuned_thresholds_beat_every_single_cut_on_the_grid(seed: int) -> None:
    y, proba = _random(seed)
    grid = np.round(np.arange(0.02, 0.981, 0.01), 2)
    thresholds = tune_thresholds(y, proba, grid)
    for j in range(len(LABELS)):
        if not y[:, j].any():
            continue
        tuned = _f1(y[:, j], proba[:, j] >= thresholds[j])
        assert tuned == pytest.approx(max(_f1(y[:, j], proba[:, j] >= t) for t in grid))


def test_plots_are_written_as_png_files(tmp_path: Path) -> None:
    y, proba = _random(1)
    report = evaluate(y, proba, tune_thresholds(y, proba), LABELS)

    paths = write_plots(report, y, proba, tmp_path / "plots")

    assert {p.name for p in paths} == {
        "f1_per_label.png",
        "precision_recall.png",
        "label_cooccurrence.png",
        "predicted_vs_true.png",
    }
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5_000
