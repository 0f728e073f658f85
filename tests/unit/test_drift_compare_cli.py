"""``trending drift compare`` on small CSV and Parquet files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def frame(seed: int, n: int, *, shift: float = 0.0) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    genres = ["Drama", "Crime", "Comedy", "Horror"]
    p = [0.1, 0.1, 0.4, 0.4] if shift else [0.4, 0.3, 0.2, 0.1]
    return {
        "hype": rng.normal(50 + 20 * shift, 10, n).round(2).tolist(),
        "media_type": rng.choice(["movie", "tv"], size=n).tolist(),
        "genres": ["|".join(rng.choice(genres, size=2, replace=False, p=p)) for _ in range(n)],
    }


def write_csv(path: Path, data: dict[str, list[Any]]) -> Path:
    names = list(data)
    lines = [",".join(names)] + [
        ",".join(str(data[c][i]) for c in names) for i in range(len(data[names[0]]))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_parquet(path: Path, data: dict[str, list[Any]]) -> Path:
    pq.write_table(pa.table(data), path)
    return path


def compare(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    result = runner.invoke(app, ["drift", "compare", *args])
    body = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, body, result.stderr


def test_same_distribution_in_csv_does_not_drift(tmp_path: Path) -> None:
    ref = write_csv(tmp_path / "ref.csv", frame(1, 500))
    cur = write_csv(tmp_path / "cur.csv", frame(2, 300))
    code, body, _ = compare(str(ref), str(cur))
    assert code == 0
    assert body is not None
    assert body["drift"] is False
    columns = body["columns"]
    assert set(columns) == {"hype", "media_type", "genres"}
    assert columns["hype"]["test"] == "ks"
    assert columns["genres"]["test"] == "chi2"
    for column in columns.values():
        assert {"test", "statistic", "p_value", "drift", "psi"} <= set(column)


def test_a_shift_in_parquet_drifts(tmp_path: Path) -> None:
    ref = write_parquet(tmp_path / "ref.parquet", frame(1, 500))
    cur = write_parquet(tmp_path / "cur.parquet", frame(2, 300, shift=1.0))
    code, body, _ = compare(str(ref), str(cur))
    assert code == 0
    assert body is not None
    assert body["drift"] is True
    assert body["columns"]["hype"]["drift"] is True
    assert body["columns"]["genres"]["drift"] is True
    assert body["columns"]["media_type"]["drift"] is False


def test_csv_against_parquet_and_tiny_samples_give_null(tmp_path: Path) -> None:
    ref = write_csv(tmp_path / "ref.csv", frame(1, 500))
    cur = write_parquet(tmp_path / "cur.parquet", frame(2, 10, shift=1.0))
    code, body, _ = compare(str(ref), str(cur))
    assert code == 0
    assert body is not None
    assert body["drift"] is None
    assert all(c["drift"] is None for c in body["columns"].values())


def test_columns_in_one_file_only_are_skipped(tmp_path: Path) -> None:
    ref = write_csv(tmp_path / "ref.csv", {**frame(1, 100), "extra": [1] * 100})
    cur = write_csv(tmp_path / "cur.csv", frame(2, 100))
    code, body, _ = compare(str(ref), str(cur))
    assert code == 0
    assert body is not None
    assert "extra" in body["skipped"]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.csv", None, "no such file"),
        ("data.json", "{}", "not a CSV or Parquet file"),
        ("empty.csv", "hype\n", "no rows"),
        ("broken.parquet", "not parquet", "unreadable"),
        ("other.csv", "unrelated\n1\n2\n", "no column to compare"),
    ],
)
def test_bad_files_exit_1_naming_the_file(
    tmp_path: Path, name: str, content: str | None, problem: str
) -> None:
    ref = write_csv(tmp_path / "ref.csv", frame(1, 50))
    bad = tmp_path / name
    if content is not None:
        bad.write_text(content)
    code, _, stderr = compare(str(ref), str(bad))
    assert code == 1
    assert name in stderr
    assert problem in stderr
