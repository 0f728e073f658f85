"""Compare two profiles feature by feature: PSI, the feature's test, and a verdict.

Numeric features get PSI over the reference's decile bins and the two-sample KS test on
the stored samples (chi-squared over the bins when a side has no sample); categorical
ones get PSI over category shares and chi-squared on the counts. Pure: profiles in,
plain dicts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from services.drift import statistics as st
from services.drift.statistics import Thresholds

NOT_ENOUGH = "not enough data: fewer than {n} on a side, no verdict"


def _numeric(ref: Mapping[str, Any], cur: Mapping[str, Any]) -> dict[str, Any]:
    if ref.get("sample") and cur.get("sample"):
        test, result = "ks", st.ks(ref["sample"], cur["sample"])
    else:
        test, result = "chi2", st.chi_squared(ref["counts"], cur["counts"])
    return {
        "test": test,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "psi": st.psi(ref["counts"], cur["counts"]),
        "bins": {
            "edges": ref["edges"],
            "reference": st.shares(ref["counts"]).tolist(),
            "current": st.shares(cur["counts"]).tolist(),
        },
    }


def _categorical(ref: Mapping[str, Any], cur: Mapping[str, Any]) -> dict[str, Any]:
    names = sorted(set(ref["counts"]) | set(cur["counts"]))
    ref_counts = [ref["counts"].get(c, 0) for c in names]
    cur_counts = [cur["counts"].get(c, 0) for c in names]
    multi = bool(ref.get("multi"))
    result = st.chi_squared(
        ref_counts,
        cur_counts,
        reference_n=ref["n"] if multi else None,
        current_n=cur["n"] if multi else None,
    )
    ref_shares, cur_shares = st.shares(ref_counts), st.shares(cur_counts)
    return {
        "test": "chi2",
        "statistic": result.statistic,
        "p_value": result.p_value,
        "psi": st.psi(ref_counts, cur_counts),
        "categories": {
            c: {"reference": float(r), "current": float(k)}
            for c, r, k in zip(names, ref_shares, cur_shares, strict=True)
        },
    }


def _absent(kind: str, note: str, ref_n: int, cur_n: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "reference_n": ref_n,
        "current_n": cur_n,
        "test": None,
        "statistic": None,
        "p_value": None,
        "psi": None,
        "level": None,
        "drift": None,
        "alpha": None,
        "note": note,
    }


def judged(ref: Mapping[str, Any] | None, cur: Mapping[str, Any] | None, t: Thresholds) -> bool:
    """Say whether a feature gets a verdict: in both profiles, enough values on each side."""
    if ref is None or cur is None or not st.enough(int(ref["n"]), int(cur["n"]), t):
        return False
    return ref["kind"] == "numeric" or bool(ref.get("values") and cur.get("values"))


def compare_feature(
    ref: Mapping[str, Any] | None,
    cur: Mapping[str, Any] | None,
    thresholds: Thresholds,
    *,
    tests: int = 1,
) -> dict[str, Any]:
    """Compare one feature's two profiles; no verdict when one is missing or too small.

    ``tests``: how many features this run judges. Each test runs at ``alpha / tests``
    (Bonferroni), so the chance that a run with no drift flags any feature by its test
    stays under ``alpha`` however many features there are.
    """
    kind = (ref or cur or {}).get("kind", "numeric")
    ref_n, cur_n = int((ref or {}).get("n", 0)), int((cur or {}).get("n", 0))
    summary = {"reference": (ref or {}).get("summary"), "current": (cur or {}).get("summary")}
    if ref is None:
        out = _absent(kind, "not in the reference profile", ref_n, cur_n)
    elif cur is None:
        out = _absent(kind, "not in the current window", ref_n, cur_n)
    elif not st.enough(ref_n, cur_n, thresholds):
        out = _absent(kind, NOT_ENOUGH.format(n=thresholds.min_samples), ref_n, cur_n)
    elif kind == "categorical" and not (ref.get("values") and cur.get("values")):
        # Titles, but none with a value (no vibe tags at all): nothing to compare.
        out = _absent(kind, "no values on one side", ref_n, cur_n)
    else:
        out = {"kind": kind, "reference_n": ref_n, "current_n": cur_n}
        out.update(_numeric(ref, cur) if kind == "numeric" else _categorical(ref, cur))
        alpha = thresholds.alpha / max(tests, 1)
        level = st.level(out["psi"], out["p_value"], replace(thresholds, alpha=alpha))
        out.update(level=level, drift=level != "ok", alpha=alpha, note=None)
    out["summary"] = summary
    return out


def compare_profiles(
    reference: Mapping[str, Any], current: Mapping[str, Any], thresholds: Thresholds
) -> dict[str, dict[str, Any]]:
    """Compare every feature either profile has, in name order."""
    ref, cur = reference.get("features", {}), current.get("features", {})
    names = sorted(set(ref) | set(cur))
    tests = sum(judged(ref.get(n), cur.get(n), thresholds) for n in names)
    return {
        name: compare_feature(ref.get(name), cur.get(name), thresholds, tests=tests)
        for name in names
    }


def overall(features: Mapping[str, Mapping[str, Any]]) -> st.Level | None:
    """Return the worst feature level; None when no feature had enough data."""
    return st.worst(f["level"] for f in features.values())
