"""A report from classified events: features per title, agreement over time, HTML and plots."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from services.drift import features, render
from services.drift.report import build_report, most_common_version
from services.drift.statistics import Thresholds
from tests.factories import title_classified
from trendkit.contracts import TitleClassified

START = datetime(2025, 3, 1, tzinfo=UTC)


def events(n: int, *, hype: float, genres: tuple[str, ...], start: datetime = START) -> list[Any]:
    return [
        title_classified(
            name=f"Title {i}",
            hype=hype + (i % 10),
            genres=genres,
            observed_at=start + timedelta(minutes=10 * i),
            signals={"gross": float(i)},
        )
        for i in range(n)
    ]


def report(current: list[TitleClassified], reference: list[TitleClassified]) -> dict[str, Any]:
    ref_profile = features.profile(features.columns(reference), source={"kind": "test"})
    return build_report(
        run_id="r1",
        ran_at=START + timedelta(days=1),
        window=(START, START + timedelta(days=1)),
        current=current,
        unreadable=0,
        reference_profile=ref_profile,
        reference={"kind": "previous_window", "reason": "test"},
        reference_agreement=None,
        model_version=most_common_version(current),
        thresholds=Thresholds(min_samples=20),
        bucket="hour",
    )


def test_a_title_seen_on_several_charts_counts_once() -> None:
    first = title_classified(name="Same", hype=10.0, observed_at=START)
    later = title_classified(
        name="Same", hype=90.0, observed_at=START + timedelta(hours=1), source="imdb_chart"
    )
    cols = features.columns([first, later])
    assert cols.titles == 1
    assert cols.observations == 2
    assert cols.numeric["hype_score"] == [90.0]
    assert sorted(cols.categorical["source"]) == ["imdb_chart", "tmdb_trending_day"]  # type: ignore[type-var]


def test_agreement_and_genres_per_hour() -> None:
    rows = features.over_time(events(12, hype=50.0, genres=("Crime",)), "hour")
    assert [r["titles"] for r in rows] == [6, 6]
    assert rows[0]["agreement"] == 1.0
    assert rows[0]["genre_shares"] == {"Crime": 1.0}


def test_a_hype_shift_is_reported_with_the_features_that_drifted() -> None:
    out = report(events(60, hype=80.0, genres=("Crime",)), events(60, hype=10.0, genres=("Crime",)))
    assert out["verdict"] == "alert"
    assert "hype_score" in out["drifted"]
    assert out["features"]["signal.gross"]["level"] == "ok"
    assert out["current"] == {"titles": 60, "observations": 60, "unreadable": 0}
    assert out["model_version"] == "1"
    assert out["agreement"]["current"] == 1.0
    assert out["note"] is None


def test_too_few_titles_give_a_null_verdict_and_say_so() -> None:
    out = report(events(5, hype=80.0, genres=("Crime",)), events(5, hype=10.0, genres=("Crime",)))
    assert out["verdict"] is None
    assert out["drifted"] == []
    assert "not enough data" in out["note"]


def test_the_page_references_exactly_the_plots_rendered() -> None:
    out = report(events(60, hype=80.0, genres=("Crime",)), events(60, hype=10.0, genres=("Drama",)))
    images = render.plots(out)
    assert {"psi.png", "genres_over_time.png", "hist_hype_score.png"} <= set(images)
    assert "categories_predicted_genres.png" in images
    assert all(data.startswith(b"\x89PNG") for data in images.values())
    page = render.page(out, images)
    assert set(re.findall(r'src="([^"]+)"', page)) == set(images)
    assert "alert" in page


def test_text_from_events_is_escaped_in_the_page() -> None:
    out = report(events(5, hype=1.0, genres=("Crime",)), events(5, hype=1.0, genres=("Crime",)))
    out["reference"]["reason"] = "<script>alert(1)</script>"
    page = render.page(out, {})
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
