"""Two data files compared column by column: what ``trending drift compare`` runs.

A file is CSV or Parquet. A numeric column is compared with PSI (on the reference's
decile bins) and KS; a text column with chi-squared, its values split on ``|`` when any
value holds one (a Parquet list-of-strings column is multi-valued as it is). Columns in
one file only, or of another type, are listed under ``skipped`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from services.drift.compare import compare_feature, judged
from services.drift.statistics import Thresholds
from trendkit.data_profile import CategoricalValue, categorical_profile, numeric_profile

SEPARATOR = "|"


class DriftFileError(ValueError):
    """A file that cannot be compared; the message names the file and the problem."""


Column = tuple[str, list[Any]]  # ("numeric" | "text" | "list", values)


def read_table(path: Path) -> pa.Table:
    """Read a CSV or Parquet file, or raise DriftFileError naming it and the problem."""
    if not path.is_file():
        raise DriftFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            table = pq.read_table(path)
        elif suffix in (".csv", ".txt"):
            table = pacsv.read_csv(path)
        else:
            raise DriftFileError(f"{path}: not a CSV or Parquet file (suffix {suffix!r})")
    except (pa.ArrowInvalid, OSError) as error:
        raise DriftFileError(f"{path}: unreadable: {error}") from error
    if table.num_rows == 0:
        raise DriftFileError(f"{path}: no rows")
    return table


def _column(array: pa.ChunkedArray) -> Column | None:
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numeric", array.cast(pa.float64()).to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        values = [None if v is None else str(v) for v in array.to_pylist()]
        if any(v is not None and SEPARATOR in v for v in values):
            return "list", [None if v is None else v.split(SEPARATOR) for v in values]
        return "text", values
    if pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
        return "list", array.to_pylist()
    if pa.types.is_null(kind):
        return "text", array.to_pylist()
    return None


def columns(table: pa.Table) -> dict[str, Column | None]:
    """Return every column as (kind, values); None for a type drift cannot compare."""
    return {name: _column(table.column(name)) for name in table.column_names}


def _profile(kind: str, values: list[Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    if kind == "numeric":
        edges = reference["edges"] if reference else None
        return numeric_profile(values, edges=edges, sample_size=len(values))
    cats: list[CategoricalValue] = values
    known = list(reference["counts"]) if reference else None
    return categorical_profile(cats, multi=kind == "list", categories=known)


def _outcome(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "test",
        "statistic",
        "p_value",
        "psi",
        "level",
        "drift",
        "reference_n",
        "current_n",
        "alpha",
    )
    return {k: result[k] for k in (*keys, "note")}


def compare_files(reference: Path, current: Path, thresholds: Thresholds) -> dict[str, Any]:
    """Compare two files column by column; return the JSON report."""
    ref_cols = columns(read_table(reference))
    cur_cols = columns(read_table(current))
    profiles: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    skipped: dict[str, str] = {}
    for name in sorted(set(ref_cols) | set(cur_cols)):
        if name not in ref_cols or name not in cur_cols:
            skipped[name] = f"only in {reference if name in ref_cols else current}"
            continue
        ref, cur = ref_cols[name], cur_cols[name]
        if ref is None or cur is None:
            skipped[name] = "not a number or text column"
            continue
        if (ref[0] == "numeric") != (cur[0] == "numeric"):
            skipped[name] = f"numeric in one file, text in the other ({ref[0]} vs {cur[0]})"
            continue
        kind = "list" if "list" in (ref[0], cur[0]) else ref[0]
        ref_profile = _profile(kind, ref[1], None)
        profiles[name] = (ref_profile, _profile(kind, cur[1], ref_profile))
    if not profiles:
        raise DriftFileError(f"{reference} and {current}: no column to compare in common")
    tests = sum(judged(r, c, thresholds) for r, c in profiles.values())
    compared = {
        name: _outcome(compare_feature(r, c, thresholds, tests=tests))
        for name, (r, c) in profiles.items()
    }
    verdicts = [c["drift"] for c in compared.values() if c["drift"] is not None]
    return {
        "reference": str(reference),
        "current": str(current),
        "columns": compared,
        "skipped": skipped,
        "drift": any(verdicts) if verdicts else None,
        "thresholds": {
            "psi_warn": thresholds.psi_warn,
            "psi_alert": thresholds.psi_alert,
            "alpha": thresholds.alpha,
            "min_samples": thresholds.min_samples,
        },
    }
