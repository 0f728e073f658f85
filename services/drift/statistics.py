"""The drift statistics: PSI, chi-squared, KS, and how they become a verdict.

Pure numpy/scipy, no I/O, so each can be checked against textbook values.

Why a verdict needs both a test and PSI: PSI alone is biased upwards on small samples
(with 10 bins and 50 titles its expected value under no drift is about 0.18, past the
warning line), and a test alone flags differences too small to matter once samples are
large. So a feature drifts when its test is significant (p < alpha) *and* its PSI
reaches the warning (or alert) line; below ``min_samples`` on either side there is no
verdict at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

EPSILON = 1e-4
"""Stands in for an empty bin's share, so that ln(0) never happens."""

Level = Literal["ok", "warn", "alert"]
LEVELS: tuple[Level, ...] = ("ok", "warn", "alert")


@dataclass(frozen=True)
class Thresholds:
    """Where drift starts: PSI lines, the test's significance level, the least sample."""

    psi_warn: float = 0.1
    psi_alert: float = 0.25
    alpha: float = 0.01
    min_samples: int = 50


@dataclass(frozen=True)
class TestResult:
    """A two-sample test's statistic and p-value."""

    statistic: float
    p_value: float


def shares(counts: ArrayLike) -> np.ndarray:
    """Return counts as shares of their total (all zeros when the total is zero)."""
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else np.zeros_like(array)


def psi(reference_counts: ArrayLike, current_counts: ArrayLike, eps: float = EPSILON) -> float:
    """Return the population stability index, Σ (cur − ref) · ln(cur / ref), over bins.

    Shares below ``eps`` are raised to it, so an empty bin on either side adds a large
    but finite term instead of infinity.
    """
    ref = np.maximum(shares(reference_counts), eps)
    cur = np.maximum(shares(current_counts), eps)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def chi_squared(
    reference_counts: ArrayLike,
    current_counts: ArrayLike,
    *,
    reference_n: float | None = None,
    current_n: float | None = None,
) -> TestResult:
    """Test whether two count vectors come from one distribution (2×K contingency).

    For multi-valued features (a title has several genres) pass the number of titles
    as ``*_n``: the counts are scaled to it, so a title with three genres does not count
    as three independent draws and inflate the evidence.
    """
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    if reference_n is not None and ref.sum() > 0:
        ref = ref * (reference_n / ref.sum())
    if current_n is not None and cur.sum() > 0:
        cur = cur * (current_n / cur.sum())
    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2 or min(table.sum(axis=1)) == 0:
        # One category, or an empty side: nothing to tell apart.
        return TestResult(0.0, 1.0)
    result = stats.chi2_contingency(table, correction=False)
    return TestResult(float(result.statistic), float(result.pvalue))


def ks(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Run the two-sample Kolmogorov-Smirnov test (scipy's ks_2samp)."""
    result = stats.ks_2samp(np.asarray(reference), np.asarray(current))
    return TestResult(float(result.statistic), float(result.pvalue))


def enough(reference_n: int, current_n: int, thresholds: Thresholds) -> bool:
    """Say whether both samples are large enough for a verdict."""
    return min(reference_n, current_n) >= thresholds.min_samples


def level(psi_value: float, p_value: float | None, thresholds: Thresholds) -> Level:
    """Name a feature's drift: alert or warn by its PSI, when its test is significant.

    With no test (``p_value`` None) PSI alone decides.
    """
    significant = p_value is None or p_value < thresholds.alpha
    if significant and psi_value >= thresholds.psi_alert:
        return "alert"
    if significant and psi_value >= thresholds.psi_warn:
        return "warn"
    return "ok"


def worst(levels: Iterable[Level | None]) -> Level | None:
    """Return the most severe level, or None when no feature had a verdict."""
    known = [lv for lv in levels if lv is not None]
    return max(known, key=LEVELS.index) if known else None


def agreement(model: Sequence[Iterable[str]], llm: Sequence[Iterable[str]]) -> float | None:
    """Return the share of titles where the model and the LLM share at least one genre.

    Titles where either side named no genre are left out; None when none is left.
    """
    pairs = [(set(m), set(g)) for m, g in zip(model, llm, strict=True)]
    judged = [bool(m & g) for m, g in pairs if m and g]
    return sum(judged) / len(judged) if judged else None
