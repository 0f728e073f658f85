"""Assemble one drift run's report: the JSON document stored and served as it is.

Pure: windows and profiles in, a dict out. The report says what the reference was
(the production model's training profile, or the window before when there is none, and
why), how many titles each side had, every feature's comparison, the model-vs-LLM genre
agreement over time, and the verdict (None: not enough data, with a note saying so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.drift import features
from services.drift.compare import compare_profiles, overall
from services.drift.features import Bucket
from services.drift.statistics import Thresholds, agreement
from trendkit.contracts import TitleClassified

REPORT_VERSION = 1


def title_agreement(events: Sequence[TitleClassified]) -> float | None:
    """Return the model-vs-LLM agreement over a window's titles (latest event each)."""
    titles = features.latest_per_title(events)
    return agreement(
        [e.classification.genres for e in titles], [e.enrichment.genres for e in titles]
    )


def build_report(
    *,
    run_id: str,
    ran_at: datetime,
    window: tuple[datetime, datetime],
    current: Sequence[TitleClassified],
    unreadable: int,
    reference_profile: Mapping[str, Any],
    reference: Mapping[str, Any],
    reference_agreement: float | None,
    model_version: str | None,
    thresholds: Thresholds,
    bucket: Bucket,
) -> dict[str, Any]:
    """Compare the current window with the reference and return the report."""
    start, end = window
    cols = features.columns(current)
    current_profile = features.profile(
        cols,
        source={"kind": "window", "start": start.isoformat(), "end": end.isoformat()},
        reference=reference_profile,
    )
    compared = compare_profiles(reference_profile, current_profile, thresholds)
    verdict = overall(compared)
    return {
        "version": REPORT_VERSION,
        "id": run_id,
        "ran_at": ran_at.isoformat(),
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "hours": (end - start).total_seconds() / 3600,
        },
        "model_version": model_version,
        "reference": dict(reference),
        "current": {
            "titles": cols.titles,
            "observations": cols.observations,
            "unreadable": unreadable,
        },
        "thresholds": {
            "psi_warn": thresholds.psi_warn,
            "psi_alert": thresholds.psi_alert,
            "alpha": thresholds.alpha,
            "min_samples": thresholds.min_samples,
        },
        "features": compared,
        "drifted": sorted(name for name, f in compared.items() if f["drift"]),
        "agreement": {
            "reference": reference_agreement,
            "current": title_agreement(current),
            "bucket": bucket,
            "over_time": features.over_time(current, bucket),
        },
        "verdict": verdict,
        "note": None
        if verdict is not None
        else f"not enough data: no feature had {thresholds.min_samples} values on both sides",
    }


def most_common_version(events: Sequence[TitleClassified]) -> str | None:
    """Return the model version that classified most of a window's events."""
    counts: dict[str, int] = {}
    for event in events:
        version = event.classification.provenance.version
        counts[version] = counts.get(version, 0) + 1
    return max(sorted(counts), key=counts.__getitem__) if counts else None
