"""Training sets from files: columns, labels, dedupe, the deterministic split, the card."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.classifier.datasets import (
    DatasetError,
    build,
    load,
    read_file,
    split_of,
    write,
)

CSV = """tmdb_id,title,overview,genres,release_date
1,Harbour of Glass,A keeper finds letters.,Drama|Romance,2024-11-08
2,Orbit Street,Couriers race across a station.,Science Fiction|Action,2025-02-14
2,Orbit Street,Couriers race across a station.,Science Fiction|Action,2025-02-14
3,Orbit  street,"Same film, another id.",Action,2025-01-01
4,Old Reel,A silent film restored.,Foreign,1931-01-01
5,Night Ledger,An accountant uncovers a heist.,Crime|TV Movie|Thriller,2023-03-03
"""


def test_a_csv_becomes_deduped_labelled_rows_with_a_card(tmp_path: Path) -> None:
    path = tmp_path / "titles.csv"
    path.write_text(CSV)
    splits, card = build(read_file(path))
    rows = [r for s in splits.values() for r in s]
    assert sorted(r.id for r in rows) == ["tmdb:movie:1", "tmdb:movie:2", "tmdb:movie:5"]
    ledger = next(r for r in rows if r.id == "tmdb:movie:5")
    assert ledger.genres == ("Crime", "Thriller")  # TV Movie is a format, not a genre
    assert ledger.year == 2023
    assert card.rows == 3
    assert card.dropped == {"duplicate": 2, "no known genre": 1}
    assert card.unknown_labels == {"Foreign": 1}
    assert sum(card.rows_per_split.values()) == 3
    assert card.labels == ["Action", "Crime", "Drama", "Romance", "Science Fiction", "Thriller"]


def test_the_split_depends_on_the_id_alone() -> None:
    ids = [f"tmdb:movie:{i}" for i in range(5000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    share = {s: splits.count(s) / len(ids) for s in ("train", "val", "test")}
    assert share["train"] == pytest.approx(0.8, abs=0.02)
    assert share["test"] == pytest.approx(0.1, abs=0.02)


def test_the_content_hash_ignores_row_order_and_sees_any_change(tmp_path: Path) -> None:
    lines = CSV.splitlines()
    shuffled = tmp_path / "b.csv"
    shuffled.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    original = tmp_path / "a.csv"
    original.write_text(CSV)
    changed = tmp_path / "c.csv"
    changed.write_text(CSV.replace("A keeper finds letters.", "A keeper burns letters."))
    hashes = [build(read_file(p))[1].content_hash for p in (original, shuffled, changed)]
    assert hashes[0] != hashes[2]
    # the first of two duplicates is kept, so only an order-free file compares equal
    assert build(read_file(original))[1].content_hash == hashes[0]


def test_parquet_round_trip_of_a_built_dataset(tmp_path: Path) -> None:
    path = tmp_path / "titles.csv"
    path.write_text(CSV)
    splits, card = build(read_file(path))
    write(splits, card, tmp_path / "built")
    again, card_again = load(tmp_path / "built")
    assert card_again == card
    assert {k: v.rows for k, v in again.items()} == {k: v.rows for k, v in splits.items()}


def test_a_parquet_file_with_list_genres_is_read(tmp_path: Path) -> None:
    path = tmp_path / "titles.parquet"
    pq.write_table(
        pa.table(
            {
                "title": ["Static Bloom"],
                "overview": ["Teenagers chase a radio signal."],
                "genres": ["Sci-Fi & Fantasy|Drama"],
                "media_type": ["tv"],
                "llm_genres": ["Science Fiction|Mystery"],
            }
        ),
        path,
    )
    [row] = read_file(path).rows
    assert row.genres == ("Science Fiction", "Fantasy", "Drama")
    assert row.llm_genres == ("Science Fiction", "Mystery")
    assert row.media_type == "tv"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "a.csv",
            "title,plot\nA,B\n",
            "a.csv: a training file needs the columns title, overview, genres; missing overview",
        ),
        (
            "b.csv",
            "title,overview,genres,media_type\nA,B,Drama,podcast\n",
            "b.csv: row 1: media_type must be movie or tv",
        ),
        ("c.parquet", "not parquet", "c.parquet: not a readable Parquet file"),
        ("d.csv", "title,overview,genres\nA,B,Foreign\n", "file:d.csv: no usable rows"),
    ],
)
def test_bad_files_are_named_with_their_problem(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DatasetError) as error:
        build(read_file(path))
    assert message in str(error.value)


def test_a_missing_file_and_an_unbuilt_folder_are_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.csv: no such file"):
        read_file(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="not a built dataset"):
        load(tmp_path)
