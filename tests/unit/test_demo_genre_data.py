"""The authored genre dataset the classifier demo trains its first model from."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from services.scraper.timeline import DEMO_TIMELINE
from trendkit.taxonomy import GENRES

DATA = (
    Path(__file__).resolve().parents[2] / "services" / "classifier" / "demo" / "authored_genres.csv"
)
COLUMNS = ["id", "title", "overview", "genres", "media_type", "year"]
TV_ONLY = {"Reality", "Kids", "News", "Talk", "Soap"}
MIN_POSITIVES = 25


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _genres(row: dict[str, str]) -> list[str]:
    return row["genres"].split("|")


def test_parses_with_every_field_filled(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 450
    for row in rows:
        assert None not in row, f"extra fields in {row['id']}"
        assert all(row[c] for c in COLUMNS), row["id"]
        assert row["media_type"] in {"movie", "tv"}, row["id"]
        assert 1970 <= int(row["year"]) <= 2026, row["id"]


def test_ids_are_unique_and_well_formed(rows: list[dict[str, str]]) -> None:
    ids = Counter(row["id"] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    for row in rows:
        ident = row["id"]
        if ident.startswith("demo:"):
            assert ident.split(":")[1] == row["media_type"], ident
        else:
            prefix, _, number = ident.partition(":")
            assert prefix == "authored", ident
            assert number.isdigit(), ident


def test_genres_come_from_the_taxonomy(rows: list[dict[str, str]]) -> None:
    for row in rows:
        genres = _genres(row)
        assert 1 <= len(genres) <= 4, row["id"]
        assert len(set(genres)) == len(genres), row["id"]
        assert set(genres) <= set(GENRES), row["id"]


def test_every_genre_has_enough_positives(rows: list[dict[str, str]]) -> None:
    counts = Counter(g for row in rows for g in _genres(row))
    short = {g: counts[g] for g in GENRES if counts[g] < MIN_POSITIVES}
    assert short == {}


def test_no_duplicate_titles(rows: list[dict[str, str]]) -> None:
    keys = Counter((row["title"], row["media_type"], row["year"]) for row in rows)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_demo_title_is_labelled_with_its_overview(rows: list[dict[str, str]]) -> None:
    by_key = {(row["title"], row["media_type"], int(row["year"])): row for row in rows}
    demo: dict[tuple[str, str, int], str] = {}
    with DEMO_TIMELINE.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                entry = json.loads(line)
                key = (entry["title"], entry["media_type"], entry["year"])
                demo.setdefault(key, entry["overview"])
    assert demo, "the demo timeline is empty"
    missing = [k for k in demo if k not in by_key]
    assert missing == []
    for key, overview in demo.items():
        assert by_key[key]["overview"] == overview, key
        assert by_key[key]["id"].startswith("demo:"), key


def test_synopses_are_short_prose(rows: list[dict[str, str]]) -> None:
    for row in rows:
        text = row["overview"]
        assert text, row["id"]
        assert text.strip() == text, row["id"]
        assert len(text) <= 500, row["id"]


def test_tv_only_genres_only_on_tv(rows: list[dict[str, str]]) -> None:
    for row in rows:
        if row["media_type"] != "tv":
            assert not TV_ONLY & set(_genres(row)), row["id"]
