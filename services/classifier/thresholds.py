"""Per-label decision thresholds: the cut on each genre's probability that gives the best F1.

A single 0.5 serves no one: the model's probabilities for rare genres rarely reach it, and
for common ones a lower cut catches more at little cost. Each label gets the grid value
with the best F1 on held-out rows; where several values tie, the middle of the tied run,
so a cut does not sit on the edge of what held-out rows happened to show.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

DEFAULT_GRID: NDArray[np.float64] = np.round(np.arange(0.02, 0.981, 0.01), 2)
DEFAULT_THRESHOLD = 0.5  # for a label the held-out rows cannot judge


def f1_at(
    y_true: NDArray[np.integer], scores: NDArray[np.floating], grid: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return one label's F1 at each threshold of ``grid`` (predicting ``score >= t``)."""
    truth = y_true.astype(bool)
    predicted = scores[:, np.newaxis] >= grid[np.newaxis, :]
    tp = (predicted & truth[:, np.newaxis]).sum(axis=0)
    fp = predicted.sum(axis=0) - tp
    fn = truth.sum() - tp
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def tune_thresholds(
    y_true: NDArray[np.integer],
    proba: NDArray[np.floating],
    grid: NDArray[np.float64] = DEFAULT_GRID,
) -> NDArray[np.float64]:
    """Return, per label, the threshold of ``grid`` that maximises F1 on these rows.

    A label with no positive row, or whose best F1 is 0 (no cut catches any positive),
    keeps ``DEFAULT_THRESHOLD``: tuning would pick an arbitrary end of the grid.
    """
    if y_true.shape != proba.shape:
        raise ValueError(f"labels {y_true.shape} and probabilities {proba.shape} differ")
    grid = np.sort(np.asarray(grid, dtype=np.float64))
    thresholds = np.full(y_true.shape[1], DEFAULT_THRESHOLD)
    for j in range(y_true.shape[1]):
        if not y_true[:, j].any():
            continue
        f1 = f1_at(y_true[:, j], proba[:, j], grid)
        best = f1.max()
        if best <= 0:
            continue
        tied = np.flatnonzero(f1 >= best - 1e-12)
        thresholds[j] = grid[_middle_of_first_run(tied)]
    return thresholds


def _middle_of_first_run(indices: NDArray[np.intp]) -> int:
    """Return the middle index of the first run of consecutive ``indices``."""
    breaks = np.flatnonzero(np.diff(indices) > 1)
    run = indices[: breaks[0] + 1] if len(breaks) else indices
    return int(run[len(run) // 2])
