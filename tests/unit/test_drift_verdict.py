"""Verdicts on known distributions: a shift alerts, chance does not, tiny samples abstain."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from services.drift.compare import compare_profiles, overall
from services.drift.statistics import Thresholds
from trendkit.data_profile import build_profile

GENRES = ["Action", "Drama", "Comedy", "Horror", "Crime", "Romance"]
GENRE_P = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
SEEDS = 200
# Tests run at alpha / features (Bonferroni), so under 1 % of windows drawn from the
# reference should be flagged; 2 % leaves room for chance over 200 seeds.
MAX_FLAGGED = 0.02
MAX_ALERTS = 0.01


def window(rng: np.random.Generator, n: int, *, shift: float = 0.0, tilt: bool = False) -> Any:
    """Draw ``n`` titles: two numeric features, genres (multi-valued), media type."""
    p = GENRE_P[::-1] if tilt else GENRE_P
    per_title = rng.integers(1, 4, n)
    return {
        "numeric": {
            "hype_score": rng.normal(50 + 15 * shift, 15, n).tolist(),
            "confidence": rng.beta(5, 2, n).tolist(),
        },
        "categorical": {
            "predicted_genres": [
                list(rng.choice(GENRES, size=k, replace=False, p=p)) for k in per_title
            ],
            "media_type": list(rng.choice(["movie", "tv"], size=n, p=[0.6, 0.4])),
        },
    }


def profile(data: Any, reference: Any = None) -> dict[str, Any]:
    return build_profile(
        **data, multi=["predicted_genres"], source={"kind": "test"}, reference=reference
    )


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return profile(window(np.random.default_rng(12345), 3000))


def verdict_of(reference: dict[str, Any], data: Any) -> tuple[Any, dict[str, Any]]:
    features = compare_profiles(reference, profile(data, reference), Thresholds())
    return overall(features), features


def test_a_shifted_numeric_feature_raises_the_alert(reference: dict[str, Any]) -> None:
    verdict, features = verdict_of(reference, window(np.random.default_rng(1), 300, shift=1.0))
    assert verdict == "alert"
    assert features["hype_score"]["level"] == "alert"
    assert features["hype_score"]["test"] == "ks"
    assert features["confidence"]["level"] == "ok"


def test_a_changed_genre_mix_raises_the_alert(reference: dict[str, Any]) -> None:
    verdict, features = verdict_of(reference, window(np.random.default_rng(2), 300, tilt=True))
    assert verdict == "alert"
    assert features["predicted_genres"]["test"] == "chi2"
    assert features["predicted_genres"]["drift"] is True
    assert features["media_type"]["drift"] is False


@pytest.mark.parametrize("n", [60, 300])
def test_samples_from_the_reference_rarely_raise_anything(
    reference: dict[str, Any], n: int
) -> None:
    verdicts = Counter(
        verdict_of(reference, window(np.random.default_rng(seed), n))[0] for seed in range(SEEDS)
    )
    assert verdicts["alert"] <= MAX_ALERTS * SEEDS
    assert verdicts["alert"] + verdicts["warn"] <= MAX_FLAGGED * SEEDS


def test_tiny_samples_give_no_verdict(reference: dict[str, Any]) -> None:
    verdict, features = verdict_of(reference, window(np.random.default_rng(3), 10, shift=3.0))
    assert verdict is None
    assert all(f["drift"] is None for f in features.values())
    assert "not enough data" in features["hype_score"]["note"]
    assert features["hype_score"]["summary"]["current"]["mean"] > 80


def test_a_feature_missing_on_one_side_has_no_verdict(reference: dict[str, Any]) -> None:
    data = window(np.random.default_rng(4), 300)
    data["numeric"]["overview_length"] = [100.0] * 300
    _, features = verdict_of(reference, data)
    assert features["overview_length"]["level"] is None
    assert features["overview_length"]["note"] == "not in the reference profile"
