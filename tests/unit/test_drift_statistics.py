"""Drift statistics against numpy/scipy and textbook values; profiles and their bins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from services.drift import statistics as st
from services.drift.compare import compare_feature
from services.drift.statistics import Thresholds
from trendkit.data_profile import (
    OTHER,
    bin_counts,
    categorical_profile,
    numeric_profile,
    quantile_edges,
)


def test_psi_matches_the_formula() -> None:
    ref, cur = np.array([50, 30, 20]), np.array([30, 30, 40])
    p, q = ref / ref.sum(), cur / cur.sum()
    assert st.psi(ref, cur) == pytest.approx(float(np.sum((q - p) * np.log(q / p))))


def test_psi_is_zero_for_equal_shares_and_symmetric() -> None:
    assert st.psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    assert st.psi([5, 1], [1, 5]) == pytest.approx(st.psi([1, 5], [5, 1]))


def test_psi_of_an_empty_bin_is_finite_through_epsilon() -> None:
    value = st.psi([50, 50, 0], [40, 40, 20])
    expected = sum(
        (c - r) * math.log(c / r) for r, c in ((0.5, 0.4), (0.5, 0.4), (st.EPSILON, 0.2))
    )
    assert math.isfinite(value)
    assert value == pytest.approx(expected)


def test_chi_squared_matches_scipy_contingency() -> None:
    ref, cur = [120, 80, 40], [30, 40, 30]
    expected = stats.chi2_contingency(np.array([ref, cur]), correction=False)
    got = st.chi_squared(ref, cur)
    assert got.statistic == pytest.approx(expected.statistic)
    assert got.p_value == pytest.approx(expected.pvalue)


def test_chi_squared_scales_multi_valued_counts_to_titles() -> None:
    # 100 titles with 300 genre values weigh like 100 observations, not 300.
    scaled = st.chi_squared([150, 150], [90, 210], reference_n=100, current_n=100)
    plain = st.chi_squared([50, 50], [30, 70])
    assert scaled.statistic == pytest.approx(plain.statistic)
    assert scaled.p_value == pytest.approx(plain.p_value)


def test_chi_squared_with_one_category_finds_nothing() -> None:
    assert st.chi_squared([10, 0], [5, 0]) == st.TestResult(0.0, 1.0)


def test_ks_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.5, size=200)
    expected = stats.ks_2samp(a, b)
    got = st.ks(a, b)
    assert (got.statistic, got.p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_decile_edges_split_the_reference_into_tenths() -> None:
    values = np.random.default_rng(1).uniform(0, 1, 10_000)
    edges = quantile_edges(values)
    assert len(edges) == 9
    counts = bin_counts(values, edges)
    assert len(counts) == 10
    assert all(abs(c - 1000) <= 2 for c in counts)


def test_outer_bins_are_open_ended() -> None:
    edges = [1.0, 2.0, 3.0]
    assert bin_counts(np.array([-1e9, 0.5, 1.0, 2.5, 3.0, 1e9]), edges) == [2, 1, 1, 2]


def test_equal_deciles_are_merged_into_fewer_bins() -> None:
    values = np.array([0.0] * 80 + [1.0] * 20)
    edges = quantile_edges(values)
    assert len(edges) < 9
    assert sorted(bin_counts(values, edges), reverse=True)[:2] == [80, 20]


def test_numeric_profile_summary_matches_numpy() -> None:
    values = [1.0, 2.0, None, 4.0, float("nan"), 10.0]
    profile = numeric_profile(values)
    finite = np.array([1.0, 2.0, 4.0, 10.0])
    assert profile["n"] == 4
    assert profile["missing"] == 2
    summary = profile["summary"]
    assert summary["missing_pct"] == pytest.approx(100 * 2 / 6)
    assert (summary["min"], summary["max"]) == (1.0, 10.0)
    assert summary["mean"] == pytest.approx(finite.mean())
    assert summary["median"] == pytest.approx(np.median(finite))
    assert sum(profile["counts"]) == 4


def test_categorical_profile_counts_each_value_and_lumps_the_rest() -> None:
    profile = categorical_profile(
        [["Drama", "Crime"], ["Drama"], [], ["Horror"]], multi=True, max_categories=2
    )
    assert profile["n"] == 4
    assert profile["values"] == 4
    assert profile["counts"]["Drama"] == 2
    assert sum(profile["counts"].values()) == 4
    assert profile["counts"][OTHER] == 1


def test_categorical_profile_on_reference_categories() -> None:
    ref = categorical_profile(["movie", "tv", "movie"], multi=False)
    cur = categorical_profile(["tv", "short", None], multi=False, categories=ref["counts"])
    assert cur["counts"] == {"movie": 0, "tv": 1, OTHER: 1}
    assert cur["missing"] == 1
    assert cur["n"] == 2


@pytest.mark.parametrize(
    ("psi", "p", "expected"),
    [
        (0.3, 0.001, "alert"),
        (0.15, 0.001, "warn"),
        (0.05, 0.001, "ok"),
        (0.3, 0.2, "ok"),  # a large PSI that a test cannot tell from chance: small samples
        (0.3, None, "alert"),
    ],
)
def test_level_needs_both_magnitude_and_significance(
    psi: float, p: float | None, expected: str
) -> None:
    assert st.level(psi, p, Thresholds()) == expected


def test_worst_level_and_no_verdict() -> None:
    assert st.worst(["ok", None, "warn"]) == "warn"
    assert st.worst([None, None]) is None


def test_agreement_counts_titles_sharing_a_genre() -> None:
    model = [["Drama"], ["Crime", "Drama"], [], ["Horror"]]
    llm = [["Drama", "Romance"], ["Comedy"], ["Drama"], ["Horror"]]
    assert st.agreement(model, llm) == pytest.approx(2 / 3)
    assert st.agreement([[]], [["Drama"]]) is None


def test_a_multi_valued_feature_with_no_values_gets_no_verdict() -> None:
    ref = categorical_profile([["calm"], ["tense"]] * 50, multi=True)
    cur = categorical_profile([[]] * 100, multi=True, categories=ref["counts"])
    result = compare_feature(ref, cur, Thresholds())
    assert result["level"] is None
    assert result["psi"] is None
    assert result["note"] == "no values on one side"
