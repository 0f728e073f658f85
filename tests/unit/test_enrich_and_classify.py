"""The local enricher and the keyword baseline classifier, as plain functions."""

from __future__ import annotations

from services.classifier.domain import KeywordBaselineModel, classify
from services.enricher.domain import (
    LexiconEnricher,
    cache_key,
    content_hash,
    first_sentences,
    to_enriched,
)
from tests.factories import title_observed
from trendkit.taxonomy import GENRES, VIBES, map_tmdb_genres


async def test_local_enricher_describes_a_title_within_the_contract() -> None:
    observed = title_observed(
        overview="A detective returns to her haunted village to solve a murder. " * 10,
        rank=3,
        signals={"rank_change": 4},
    )
    enrichment = LexiconEnricher().describe(observed)
    assert len(enrichment.summary) <= 280
    assert {"Crime", "Horror"} <= set(enrichment.genres)
    assert set(enrichment.genres) <= set(GENRES)
    assert set(enrichment.vibe_tags) <= set(VIBES)
    assert enrichment.hype_reason == "#3 on tmdb_trending_day, up 4"
    event = to_enriched(observed, enrichment)
    assert event.title_id == observed.title_id
    assert event.event_id == to_enriched(observed, enrichment).event_id


def test_content_hash_changes_with_the_overview_only() -> None:
    a = title_observed(overview="One.")
    b = title_observed(overview="One.", rank=9)
    c = title_observed(overview="Two.")
    assert content_hash(a.title) == content_hash(b.title) != content_hash(c.title)
    key = cache_key(a.title, LexiconEnricher().describe(a).provenance)
    assert key[1:] == (LexiconEnricher.version, LexiconEnricher.model)


def test_summary_cuts_at_a_sentence() -> None:
    text = "First sentence here. " + "Second one is much longer " * 20
    assert first_sentences(text) == "First sentence here."


async def test_baseline_classifier_stamps_its_provenance() -> None:
    observed = title_observed(overview="An alien starship drifts into orbit around a planet.")
    enrichment = LexiconEnricher().describe(observed)
    [event] = classify([to_enriched(observed, enrichment)], KeywordBaselineModel())
    assert event.classification.genres[0] == "Science Fiction"
    assert event.classification.provenance.provider == "baseline"
    assert set(event.classification.probabilities) == set(GENRES)


def test_tmdb_tv_genres_map_onto_the_taxonomy() -> None:
    assert map_tmdb_genres(["Sci-Fi & Fantasy", "Drama", "TV Movie"]) == [
        "Science Fiction",
        "Fantasy",
        "Drama",
    ]
