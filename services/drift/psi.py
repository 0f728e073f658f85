"""Population stability index over categorical distributions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

EPSILON = 1e-4
"""Stands in for an empty category's share, so log(0) never happens."""


def shares(labels: Iterable[str], categories: Iterable[str]) -> dict[str, float]:
    """Return each category's share of the labels (0 for absent ones)."""
    counts = Counter(labels)
    total = sum(counts.values())
    return {c: (counts[c] / total if total else 0.0) for c in categories}


def psi(reference: dict[str, float], current: dict[str, float]) -> float:
    """Return Σ (cur − ref) · ln(cur / ref), empty shares replaced by EPSILON."""
    value = 0.0
    for category in reference.keys() | current.keys():
        ref = max(reference.get(category, 0.0), EPSILON)
        cur = max(current.get(category, 0.0), EPSILON)
        value += (cur - ref) * math.log(cur / ref)
    return value


def verdict(value: float | None, *, warn: float, alert: float) -> str:
    """Name the PSI band: ok, warn, alert, or insufficient when there was no verdict."""
    if value is None:
        return "insufficient"
    if value >= alert:
        return "alert"
    return "warn" if value >= warn else "ok"
