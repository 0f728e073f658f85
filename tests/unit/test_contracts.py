"""The contracts: round trips, and bad payloads rejected with the field named."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.factories import title_classified, title_observed, title_scored, trend_scored
from trendkit.contracts import (
    TITLES_CLASSIFIED,
    TITLES_RAW,
    TOPIC_MODELS,
    TRENDS_SCORED,
    DeadLetter,
    TitleObserved,
    TitleScored,
    derive_event_id,
    describe_validation_error,
    dlq_topic,
    make_title_id,
    normalise_title,
)


@pytest.mark.parametrize(
    ("topic", "event"),
    [
        (TITLES_RAW, title_observed()),
        (TITLES_CLASSIFIED, title_classified()),
        (TRENDS_SCORED, title_scored()),
    ],
)
def test_every_topic_model_round_trips_through_json(topic: str, event: object) -> None:
    model = TOPIC_MODELS[topic]
    assert isinstance(event, model)
    assert model.model_validate_json(event.model_dump_json()) == event


def test_a_scored_event_unfolds_into_the_items_it_was_folded_from() -> None:
    at = datetime(2026, 11, 27, 12, tzinfo=UTC)
    day = trend_scored(window="day", rank=3, score=71.5, observed_at=at)
    week = trend_scored(window="week", rank=9, score=40.0, observed_at=at)
    event = title_scored(day, week)
    assert event.schema_version == 2
    assert event.items() == [day, week]
    wire = TitleScored.model_validate_json(event.model_dump_json())
    assert wire.items() == [day, week]
    with pytest.raises(ValueError, match="at least one item"):
        TitleScored.of([])
    with pytest.raises(ValueError, match="one title at one instant"):
        TitleScored.of([day, trend_scored(title_id="tmdb:tv:2", observed_at=at)])


def test_a_scored_event_names_a_repeated_window_and_needs_one() -> None:
    payload = json.loads(title_scored(window="day").model_dump_json())
    payload["windows"].append(payload["windows"][0])
    with pytest.raises(ValidationError) as info:
        TitleScored.model_validate(payload)
    assert describe_validation_error(info.value).startswith("windows: ")
    assert "each window may appear once, got ['day', 'day']" in str(info.value)
    payload["windows"] = []
    with pytest.raises(ValidationError) as info:
        TitleScored.model_validate(payload)
    assert describe_validation_error(info.value).startswith("windows: List should have at")


def test_dead_letter_round_trips() -> None:
    letter = DeadLetter(
        topic=TITLES_RAW,
        partition=2,
        offset=7,
        key="tmdb:movie:1",
        value="e30=",
        headers={},
        error="boom",
        error_type="ValueError",
        service="enricher",
        attempts=3,
        failed_at=datetime.now(UTC),
    )
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_bad_payload_error_names_the_field() -> None:
    payload = json.loads(title_observed().model_dump_json())
    payload["observation"]["rank"] = 0
    with pytest.raises(ValidationError) as info:
        TitleObserved.model_validate(payload)
    assert describe_validation_error(info.value).startswith("observation.rank:")


def test_missing_and_unknown_fields_are_named() -> None:
    payload = json.loads(title_observed().model_dump_json())
    del payload["title_id"]
    payload["surprise"] = 1
    with pytest.raises(ValidationError) as info:
        TitleObserved.model_validate(payload)
    message = describe_validation_error(info.value)
    assert "title_id: Field required" in message
    assert "surprise: Extra inputs are not permitted" in message


def test_naive_event_time_is_rejected_and_aware_time_normalised_to_utc() -> None:
    payload = json.loads(title_observed().model_dump_json())
    payload["observed_at"] = "2026-01-01T10:00:00"
    with pytest.raises(ValidationError, match="observed_at"):
        TitleObserved.model_validate(payload)
    paris = datetime(2026, 1, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    event = title_observed(observed_at=paris)
    assert event.observed_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert event.observed_at.tzinfo == UTC


def test_title_id_shape_is_enforced() -> None:
    with pytest.raises(ValidationError, match="title_id"):
        title_observed(title_id="matrix")


def test_identity_folds_spellings_of_one_title() -> None:
    a = make_title_id(media_type="movie", title="The Matrix (1999)", year=1999)
    b = make_title_id(media_type="movie", title="Matrix, The", year=1999)
    c = make_title_id(media_type="movie", title="the matrix", year=1999)
    assert a == b == c
    assert a != make_title_id(media_type="tv", title="The Matrix", year=1999)
    assert make_title_id(media_type="tv", tmdb_id=1396) == "tmdb:tv:1396"


@given(st.text(min_size=1, max_size=60))
def test_normalised_titles_are_stable(title: str) -> None:
    once = normalise_title(title)
    assert normalise_title(once) == once


def test_derived_ids_are_deterministic() -> None:
    assert derive_event_id("a", "enricher") == derive_event_id("a", "enricher")
    assert derive_event_id("a", "enricher") != derive_event_id("a", "classifier")
    assert dlq_topic(TITLES_RAW) == "titles.raw.dlq"


@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_derived_ids_are_the_uuid5_they_always_were(parts: list[str]) -> None:
    # Ids already stored and published must not change: redeliveries rely on them.
    expected = uuid.uuid5(uuid.UUID("6f1c2d8e-31a5-4c55-9a8e-2b7d0c1f9e42"), "|".join(parts))
    assert derive_event_id(*parts) == str(expected)


def test_titles_in_other_scripts_keep_their_identity() -> None:
    tokyo = make_title_id(media_type="movie", title="東京物語", year=1953)
    seoul = make_title_id(media_type="movie", title="서울의 봄", year=1953)
    assert tokyo != seoul
    assert normalise_title("Amélie") == normalise_title("AMELIE") == "amelie"
