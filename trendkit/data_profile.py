"""Data profiles: what a set of titles looked like, as JSON, for drift detection.

A profile is written at training time next to the model (``reference_profile.json``) and
built again by the drift service over recent titles; the two are then compared feature by
feature. It lives in the library because two services need the same format: the
classifier writes it, drift reads it. Pure numpy, no I/O beyond :func:`write_profile`.

Binning of a numeric feature: ``BINS`` (10) bins cut at the reference's deciles, so each
holds about a tenth of the reference; the outer bins are open-ended, ``(-inf, e1)`` and
``[e9, +inf)``, so a current value outside the reference's range still lands in a bin.
Equal deciles (a feature with few distinct values) are merged, leaving fewer bins. Bins
are left-closed: bin ``i`` is ``[e_i, e_{i+1})``. Only the interior edges are stored.

A categorical feature counts each value; a multi-valued one (genres, vibe tags) counts
each value of each title, and records how many titles there were. Categories beyond the
``MAX_CATEGORIES`` most frequent are lumped into ``OTHER``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

PROFILE_FILE = "reference_profile.json"
PROFILE_VERSION = 1
BINS = 10
MAX_CATEGORIES = 50
SAMPLE_SIZE = 1000
OTHER = "(other)"

NumericValues = Sequence[float | int | None]
# One title's value: a string, a list of strings (multi-valued), or None when missing.
CategoricalValue = str | Sequence[str] | None


def _finite(values: NumericValues) -> tuple[NDArray[np.float64], int]:
    """Return the finite values and how many were missing (None or NaN)."""
    raw = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    finite = raw[np.isfinite(raw)]
    return finite, int(raw.size - finite.size)


def quantile_edges(values: NDArray[np.float64], bins: int = BINS) -> list[float]:
    """Return the interior bin edges: the reference's quantiles, duplicates merged."""
    if values.size == 0:
        return []
    cuts = np.quantile(values, np.arange(1, bins) / bins)
    return [float(c) for c in np.unique(cuts)]


def bin_counts(values: NDArray[np.float64], edges: Sequence[float]) -> list[int]:
    """Count values per bin; ``len(edges) + 1`` bins, the outer ones open-ended."""
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
    return [int(c) for c in np.bincount(index, minlength=len(edges) + 1)]


def summary(values: NDArray[np.float64], missing: int) -> dict[str, float | None]:
    """Return min, max, mean, median, standard deviation and the missing percentage."""
    total = values.size + missing
    stats: dict[str, float | None] = {
        "missing_pct": 100.0 * missing / total if total else None,
    }
    for name, fn in (
        ("min", np.min),
        ("max", np.max),
        ("mean", np.mean),
        ("median", np.median),
        ("std", np.std),
    ):
        stats[name] = float(fn(values)) if values.size else None
    return stats


def _sample(values: NDArray[np.float64], size: int, seed: int = 0) -> list[float]:
    """Return at most ``size`` values, chosen deterministically (KS tests read them)."""
    if values.size > size:
        values = np.random.default_rng(seed).choice(values, size=size, replace=False)
    return [float(v) for v in np.sort(values)]


def numeric_profile(
    values: NumericValues, *, edges: Sequence[float] | None = None, sample_size: int = SAMPLE_SIZE
) -> dict[str, Any]:
    """Profile a numeric feature; ``edges`` from a reference, else its own deciles."""
    finite, missing = _finite(values)
    cut = list(edges) if edges is not None else quantile_edges(finite)
    return {
        "kind": "numeric",
        "n": int(finite.size),
        "missing": missing,
        "edges": cut,
        "counts": bin_counts(finite, cut),
        "summary": summary(finite, missing),
        "sample": _sample(finite, sample_size),
    }


def _values(value: CategoricalValue) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def categorical_profile(
    values: Sequence[CategoricalValue],
    *,
    multi: bool,
    categories: Iterable[str] | None = None,
    max_categories: int = MAX_CATEGORIES,
) -> dict[str, Any]:
    """Profile a categorical feature; ``categories`` (a reference's) fixes the categories."""
    counts: Counter[str] = Counter()
    missing = 0
    for value in values:
        found = _values(value)
        if not found and not multi:
            missing += 1
        counts.update(found)
    if categories is None:
        kept = {c for c, _ in counts.most_common(max_categories)}
    else:
        kept = set(categories) - {OTHER}
    lumped: dict[str, int] = {c: counts[c] for c in sorted(kept)}
    other = sum(n for c, n in counts.items() if c not in kept)
    if other or categories is not None:
        lumped[OTHER] = other
    n_titles = len(values) - missing
    return {
        "kind": "categorical",
        "multi": multi,
        "n": n_titles,
        "missing": missing,
        "values": sum(counts.values()),
        "counts": lumped,
        "summary": {"missing_pct": 100.0 * missing / len(values) if values else None},
    }


def build_profile(
    *,
    numeric: Mapping[str, NumericValues],
    categorical: Mapping[str, Sequence[CategoricalValue]],
    multi: Iterable[str] = (),
    source: Mapping[str, Any],
    reference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Profile every feature; with ``reference``, reuse its bin edges and categories."""
    multi_valued = set(multi)
    ref = (reference or {}).get("features", {})
    features: dict[str, Any] = {}
    for name, values in numeric.items():
        edges = ref[name]["edges"] if name in ref else None
        features[name] = numeric_profile(values, edges=edges)
    for name, cats in categorical.items():
        known = list(ref[name]["counts"]) if name in ref else None
        features[name] = categorical_profile(cats, multi=name in multi_valued, categories=known)
    return {
        # No timestamp: equal data gives equal bytes, so a model folder's digest is stable.
        "version": PROFILE_VERSION,
        "bins": BINS,
        "source": dict(source),
        "features": features,
    }


def write_profile(directory: Path, profile: Mapping[str, Any]) -> Path:
    """Write ``reference_profile.json`` into a model folder."""
    path = directory / PROFILE_FILE
    path.write_text(json.dumps(profile, indent=1, sort_keys=True))
    return path
