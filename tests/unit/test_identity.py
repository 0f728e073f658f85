"""Identity resolution in memory: the rules, their order, and properties over many titles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.scraper.identity import FUZZY_THRESHOLD, TitleIndex, alias_key
from trendkit.contracts import MediaType, make_title_id

words = st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9), min_size=1)
years = st.integers(1900, 2030)
media_types: st.SearchStrategy[MediaType] = st.sampled_from(["movie", "tv"])


def test_tmdb_id_wins_and_is_stable() -> None:
    index = TitleIndex()

    first = index.resolve("The Matrix", 1999, "movie", tmdb_id=603)
    again = index.resolve("Matrix", 1999, "movie", tmdb_id=603)

    assert first.title_id == again.title_id == "tmdb:movie:603"
    assert first.how == "tmdb"


def test_spelling_without_tmdb_id_finds_the_tmdb_title() -> None:
    index = TitleIndex()
    index.resolve("The Matrix", 1999, "movie", tmdb_id=603)

    found = index.resolve("Matrix, The", 1999, "movie")

    assert (found.title_id, found.how) == ("tmdb:movie:603", "exact")


def test_year_off_by_one_or_unknown_matches() -> None:
    index = TitleIndex()
    index.resolve("Shogun", 2024, "tv", tmdb_id=126308)

    assert index.resolve("Shōgun", 2023, "tv").how == "year±1"
    assert index.resolve("SHOGUN", None, "tv").title_id == "tmdb:tv:126308"
    assert index.resolve("Shogun", 1980, "tv").how == "new"


def test_media_type_separates_titles() -> None:
    index = TitleIndex()
    index.resolve("Fargo", 1996, "movie", tmdb_id=275)

    assert index.resolve("Fargo", 1996, "tv").title_id.startswith("title:tv:")


def test_fuzzy_match_admits_a_typo() -> None:
    index = TitleIndex()
    index.resolve("Stranger Things", 2016, "tv", tmdb_id=66732)

    found = index.resolve("Stranger Thigns", 2016, "tv")

    assert found.how == "fuzzy"
    assert found.title_id == "tmdb:tv:66732"
    assert FUZZY_THRESHOLD <= found.score < 100


def test_sequels_and_numbers_never_fuzzy_match() -> None:
    index = TitleIndex()
    index.resolve("Toy Story 3", 2010, "movie", tmdb_id=10193)
    index.resolve("The Hunger Games: Mockingjay - Part 1", 2014, "movie", tmdb_id=131631)
    index.resolve("Dune", 2021, "movie", tmdb_id=438631)

    assert index.resolve("Toy Story 4", 2010, "movie").how == "new"
    assert index.resolve("The Hunger Games: Mockingjay - Part 2", 2015, "movie").how == "new"
    assert index.resolve("Dune: Part Two", 2021, "movie").how == "new"


def test_hash_id_is_upgraded_when_the_tmdb_id_arrives() -> None:
    index = TitleIndex()
    hashed = index.resolve("The Glass Orchard", 2025, "movie")
    typo = index.resolve("The Glass Orchad", 2025, "movie")
    assert hashed.how == "new"
    assert typo.title_id == hashed.title_id

    upgraded = index.resolve("The Glass Orchard", 2025, "movie", tmdb_id=42)

    assert upgraded.title_id == "tmdb:movie:42"
    # The typo's alias moved with the hash id, so the upgrade persists it too.
    assert alias_key("The Glass Orchad", 2025, "movie") in upgraded.alias_keys
    assert index.resolve("The Glass Orchad", 2025, "movie").title_id == "tmdb:movie:42"
    assert index.resolve("the glass orchard", None, "movie").title_id == "tmdb:movie:42"
    assert index.canonical(hashed.title_id) == "tmdb:movie:42"


def test_a_second_tmdb_title_does_not_steal_a_spelling() -> None:
    index = TitleIndex()
    index.resolve("Dune", 2021, "movie", tmdb_id=438631)

    other = index.resolve("Dune", 2021, "movie", tmdb_id=999)

    assert other.title_id == "tmdb:movie:999"
    assert other.alias_keys == ()
    assert index.resolve("Dune", 2021, "movie").title_id == "tmdb:movie:438631"


def test_year_in_the_name_counts_when_no_year_is_given() -> None:
    index = TitleIndex()
    index.resolve("Heat", 1995, "movie", tmdb_id=949)

    assert index.resolve("Heat (1995)", None, "movie").how == "exact"
    assert index.resolve("Heat (1986)", None, "movie").how == "new"


def test_new_title_gets_the_contract_id() -> None:
    index = TitleIndex()

    new = index.resolve("Brand New Show", 2025, "tv")

    assert new.how == "new"
    assert new.title_id == make_title_id(media_type="tv", title="Brand New Show", year=2025)


@given(st.lists(st.tuples(words, st.one_of(st.none(), years), media_types)))
def test_resolution_is_stable(titles: list[tuple[list[str], int | None, MediaType]]) -> None:
    index = TitleIndex()
    first = [index.resolve(" ".join(w), y, m) for w, y, m in titles]

    again = [index.resolve(" ".join(w), y, m) for w, y, m in titles]

    assert [r.title_id for r in again] == [r.title_id for r in first]


@given(words, years)
def test_article_and_year_spellings_resolve_to_one_id(name_words: list[str], year: int) -> None:
    name = " ".join(name_words).title()
    index = TitleIndex()

    ids = {
        index.resolve(f"The {name} ({year})", None, "movie").title_id,
        index.resolve(f"{name}, The", year, "movie").title_id,
        index.resolve(f"the {name.lower()}", None, "movie").title_id,
    }

    assert len(ids) == 1


@given(
    st.text("abcdefghijklm", min_size=1, max_size=30),
    st.text("nopqrstuvwxyz", min_size=1, max_size=30),
    years,
)
def test_a_very_different_title_never_matches(known: str, other: str, year: int) -> None:
    index = TitleIndex()
    index.resolve(known, year, "movie")

    assert index.resolve(other, year, "movie").how == "new"


@given(words, years, st.integers(2, 80))
def test_years_far_apart_never_match(name_words: list[str], year: int, gap: int) -> None:
    name = " ".join(name_words)
    index = TitleIndex()
    first = index.resolve(name, year, "movie")

    later = index.resolve(name, year + gap, "movie")

    assert later.how == "new"
    assert later.title_id != first.title_id
