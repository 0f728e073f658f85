"""The REST api on a real uvicorn server and a real PostgreSQL, spoken to over HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.api.hub import TrendHub
from services.api.rest import add_rest_api
from services.scorer.archive import write_scores
from tests.factories import trend_scored
from tests.servers import serving
from trendkit.contracts import TitleScored, TrendScored, now_utc
from trendkit.db import insert_ignore
from trendkit.db.database import Database
from trendkit.db.models import (
    ClassificationRow,
    DriftReport,
    EnrichmentRow,
    ModelVersion,
    ObservationRow,
    Title,
)

pytestmark = pytest.mark.integration

NOW = now_utc()
EARLIER = NOW - timedelta(hours=2)  # Dune led the day window then…
LATER = NOW - timedelta(hours=1)  # …and Shogun overtook it.
DUNE = "tmdb:movie:438631"
SHOGUN = "tmdb:tv:126308"


@dataclass
class Api:
    """A served app: its HTTP client, its hub and its database."""

    http: httpx.AsyncClient
    hub: TrendHub
    db: Database


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    hub = TrendHub()
    db = Database(database_url, service="test-api-rest")
    await db.open()
    app = FastAPI()
    add_rest_api(app, hub, db)
    try:
        async with (
            serving(app) as address,
            httpx.AsyncClient(base_url=f"http://{address}") as http,
        ):
            yield Api(http, hub, db)
    finally:
        await db.close()


# --- factories ----------------------------------------------------------------------


async def store_scores(db: Database, scored: Sequence[TrendScored]) -> None:
    """Write scores as the scorer does: history rows, the latest per title and window, and
    each title's card."""
    async with db.transaction() as session:
        await write_scores(session, [TitleScored.of([s]) for s in scored])


def dune(rank: int, score: float, at: Any, **overrides: Any) -> TrendScored:
    return trend_scored(
        title_id=DUNE,
        name="Dune: Part Two",
        rank=rank,
        score=score,
        observed_at=at,
        genres=["Science Fiction", "Drama"],
        **overrides,
    )


def shogun(rank: int, score: float, at: Any, **overrides: Any) -> TrendScored:
    return trend_scored(
        title_id=SHOGUN,
        name="Shōgun",
        rank=rank,
        score=score,
        observed_at=at,
        media_type="tv",
        genres=["Drama", "History"],
        **overrides,
    )


async def seed_two_titles(db: Database) -> list[TrendScored]:
    """Dune (catalogued, enriched, classified) and Shogun (only ever scored); return now."""
    history = [dune(1, 90, EARLIER), shogun(2, 70, EARLIER), shogun(1, 95, LATER)]
    current = [dune(2, 80, LATER), *history[-1:]]
    await store_scores(db, [*history, current[0]])
    async with db.transaction() as session:
        await insert_ignore(session, Title, [_dune_title()])
        await insert_ignore(session, EnrichmentRow, [_dune_enrichment()])
        await insert_ignore(session, ClassificationRow, [_dune_classification()])
    return current


def _dune_title() -> dict[str, Any]:
    return {
        "title_id": DUNE,
        "name": "Dune: Part Two",
        "media_type": "movie",
        "year": 2024,
        "overview": "Paul Atreides unites with the Fremen.",
        "tmdb_id": 438631,
        "poster_url": "https://image.example/dune.jpg",
        "genres": ["Science Fiction", "Adventure"],
        "first_seen_at": EARLIER,
        "last_seen_at": LATER,
    }


def _dune_enrichment() -> dict[str, Any]:
    return {
        "content_hash": "c0ffee",
        "prompt_version": "v3",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "title_id": DUNE,
        "summary": "A desert war epic.",
        "vibe_tags": ["epic", "tense"],
        "genres": ["Science Fiction", "Action"],
        "hype_score": 88.0,
    }


def _dune_classification() -> dict[str, Any]:
    return {
        "event_id": "classified-dune-1",
        "title_id": DUNE,
        "model_version": "xgb-2024.05",
        "probabilities": {"Science Fiction": 0.93, "Drama": 0.41},
        "genres": ["Science Fiction"],
    }


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert a status and return the error detail of the body."""
    assert response.status_code == status, response.text
    detail: dict[str, Any] = response.json()["detail"]
    return detail


# --- /api/trends --------------------------------------------------------------------


async def test_trends_pages_with_a_cursor_until_next_cursor_is_null(api: Api) -> None:
    api.hub.load_snapshot(
        trend_scored(title_id=f"tmdb:movie:{i}", rank=i, score=100 - i) for i in range(1, 8)
    )
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        page = (await api.http.get("/api/trends", params={"limit": 3, "cursor": cursor})).json()
        seen += [i["title_id"] for i in page["items"]]
        assert page["count"] == len(page["items"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == [f"tmdb:movie:{i}" for i in range(1, 8)]
    assert page["count"] == 1

    exact = (await api.http.get("/api/trends", params={"limit": 7})).json()
    assert exact["count"] == 7
    assert exact["next_cursor"] is None


async def test_a_bad_cursor_is_a_400_naming_cursor(api: Api) -> None:
    not_json = base64.urlsafe_b64encode(b"[1, 2").decode()
    for cursor in ("%%%", "bm90IGEgY3Vyc29y", not_json):
        detail = problem_of(await api.http.get("/api/trends", params={"cursor": cursor}), 400)
        assert detail["parameter"] == "cursor"
    bad_window = await api.http.get("/api/trends", params={"window": "month"})
    assert problem_of(bad_window, 400)["parameter"] == "window"


async def test_trends_carry_an_etag_and_answer_304_until_the_ranking_changes(api: Api) -> None:
    api.hub.load_snapshot([trend_scored(title_id="tmdb:movie:1", rank=1)])
    first = await api.http.get("/api/trends")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["content-encoding"] == "gzip"  # httpx asks for it, and unpacks it
    plain = await api.http.get("/api/trends", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == first.json()
    assert plain.headers["etag"] == etag

    again = await api.http.get("/api/trends", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    api.hub.apply([trend_scored(title_id="tmdb:movie:2", rank=2)])
    changed = await api.http.get("/api/trends", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["count"] == 2


# --- /api/titles --------------------------------------------------------------------


async def test_title_detail_merges_catalogue_enrichment_genres_and_scores(api: Api) -> None:
    await seed_two_titles(api.db)
    live = dune(1, 99, NOW, window="live")
    api.hub.load_snapshot([live])

    body = (await api.http.get(f"/api/titles/{DUNE}")).json()

    assert body["title_id"] == DUNE
    assert body["title"] == {
        "name": "Dune: Part Two",
        "media_type": "movie",
        "year": 2024,
        "overview": "Paul Atreides unites with the Fremen.",
        "poster_url": "https://image.example/dune.jpg",
        "tmdb_id": 438631,
    }
    assert body["enrichment"] == {
        "summary": "A desert war epic.",
        "vibe_tags": ["epic", "tense"],
        "genres": ["Science Fiction", "Action"],
        "hype_score": 88.0,
        "provider": "openai",
        "model": "gpt-4o-mini",
    }
    assert body["genres"] == {
        "llm": ["Science Fiction", "Action"],
        "model": ["Science Fiction"],
        "model_probabilities": {"Science Fiction": 0.93, "Drama": 0.41},
        "model_version": "xgb-2024.05",
        "source": ["Science Fiction", "Adventure"],
    }
    assert body["scores"]["live"]["event_id"] == live.event_id  # from the hub
    assert (body["scores"]["day"]["rank"], body["scores"]["day"]["score"]) == (2, 80)
    assert body["scores"]["week"] is None


async def test_title_detail_without_a_catalogue_row_comes_from_its_latest_score(api: Api) -> None:
    await seed_two_titles(api.db)

    body = (await api.http.get(f"/api/titles/{SHOGUN}")).json()

    assert body["title"]["name"] == "Shōgun"
    assert body["title"]["media_type"] == "tv"
    assert body["enrichment"] == {
        "summary": "Shōgun, in one line.",
        "vibe_tags": ["tense", "stylish"],
        "genres": ["Drama", "History"],
        "hype_score": None,
        "provider": None,
        "model": None,
    }
    assert body["genres"]["model"] == []
    assert body["genres"]["model_version"] is None
    assert body["scores"]["day"]["rank"] == 1


async def test_an_unknown_title_is_a_404_naming_title_id(api: Api) -> None:
    for path in ("/api/titles/tmdb:movie:999", "/api/titles/tmdb:movie:999/history"):
        detail = problem_of(await api.http.get(path), 404)
        assert detail["parameter"] == "title_id"
        assert detail["message"].startswith("no title 'tmdb:movie:999'")


async def test_history_lists_published_scores_oldest_first(api: Api) -> None:
    await seed_two_titles(api.db)

    body = (await api.http.get(f"/api/titles/{SHOGUN}/history")).json()
    assert body["title_id"] == SHOGUN
    assert body["window"] == "day"
    assert [(p["rank"], p["score"]) for p in body["points"]] == [(2, 70), (1, 95)]

    since = (EARLIER + timedelta(minutes=1)).isoformat()
    recent = await api.http.get(f"/api/titles/{SHOGUN}/history", params={"since": since})
    assert [p["rank"] for p in recent.json()["points"]] == [1]
    unencoded = await api.http.get(f"/api/titles/{SHOGUN}/history?since={since}")  # "+" → " "
    assert unencoded.json() == recent.json()
    newest = await api.http.get(f"/api/titles/{SHOGUN}/history", params={"limit": 1})
    assert [p["rank"] for p in newest.json()["points"]] == [1]
    week = await api.http.get(f"/api/titles/{SHOGUN}/history", params={"window": "week"})
    assert week.json()["points"] == []


async def test_history_rejects_a_bad_window_since_or_limit(api: Api) -> None:
    await seed_two_titles(api.db)
    path = f"/api/titles/{SHOGUN}/history"
    for params, parameter in (
        ({"window": "month"}, "window"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
    ):
        assert problem_of(await api.http.get(path, params=params), 400)["parameter"] == parameter


# --- /api/trends/at -----------------------------------------------------------------


async def test_time_travel_gives_the_ranking_as_it_stood_then(api: Api) -> None:
    await seed_two_titles(api.db)

    then = EARLIER + timedelta(minutes=30)
    past = (await api.http.get("/api/trends/at", params={"time": then.isoformat()})).json()
    now = (await api.http.get("/api/trends/at", params={"time": NOW.isoformat()})).json()

    assert [(i["title_id"], i["rank"]) for i in past["items"]] == [(DUNE, 1), (SHOGUN, 2)]
    assert [(i["title_id"], i["rank"]) for i in now["items"]] == [(SHOGUN, 1), (DUNE, 2)]
    assert past["window"] == "day"
    assert past["count"] == 2
    assert past["items"][0]["score"] == 90
    assert past["items"][0]["title"]["name"] == "Dune: Part Two"  # from the current payload

    history = await api.http.get(
        "/api/trends/at", params={"time": then.isoformat(), "genre": "history"}
    )
    assert [i["title_id"] for i in history.json()["items"]] == [SHOGUN]
    tv = await api.http.get("/api/trends/at", params={"time": then.isoformat(), "media_type": "tv"})
    assert [i["title_id"] for i in tv.json()["items"]] == [SHOGUN]
    before = (EARLIER - timedelta(minutes=1)).isoformat()
    assert (await api.http.get("/api/trends/at", params={"time": before})).json()["count"] == 0


async def test_time_travel_rejects_a_future_or_unparsable_time(api: Api) -> None:
    future = (now_utc() + timedelta(hours=1)).isoformat()
    for params in ({"time": future}, {"time": "last tuesday"}, {}):
        detail = problem_of(await api.http.get("/api/trends/at", params=params), 400)
        assert detail["parameter"] == "time"
        assert detail["message"].startswith("time:")


# --- catalogue and models -----------------------------------------------------------


async def test_genres_count_the_titles_of_the_day_ranking(api: Api) -> None:
    api.hub.load_snapshot(await seed_two_titles(api.db))

    genres = (await api.http.get("/api/genres")).json()

    counts = {g["name"]: g["titles"] for g in genres["genres"]}
    assert counts["Drama"] == 2
    assert counts["Science Fiction"] == 1
    assert counts["Western"] == 0
    assert len(counts) == 23  # the whole taxonomy, zeros included


async def test_sources_merge_observations_with_current_score_components(api: Api) -> None:
    api.hub.load_snapshot(await seed_two_titles(api.db))
    async with api.db.transaction() as session:
        await insert_ignore(
            session,
            ObservationRow,
            [
                {"event_id": f"o{i}", "title_id": DUNE, "source": s, "rank": 1, "observed_at": t}
                for i, (s, t) in enumerate(
                    [("tmdb_trending_day", EARLIER), ("tmdb_trending_day", LATER), ("rt", NOW)]
                )
            ],
        )

    sources = {s["name"]: s for s in (await api.http.get("/api/sources")).json()["sources"]}

    assert set(sources) == {"tmdb_trending_day", "imdb_chart", "rt"}
    assert sources["tmdb_trending_day"]["observations"] == 2
    assert sources["tmdb_trending_day"]["scored_titles"] == 2
    assert sources["imdb_chart"]["observations"] == 0  # only seen in score components
    assert sources["imdb_chart"]["last_observed_at"] is None
    assert sources["rt"]["scored_titles"] == 0


async def test_models_list_the_registry_with_headline_metrics(api: Api) -> None:
    async with api.db.transaction() as session:
        await insert_ignore(
            session,
            ModelVersion,
            [
                {
                    "version": "xgb-1",
                    "kind": "xgboost",
                    "stage": "production",
                    "metrics": {"macro_f1": 0.61, "micro_f1": 0.7, "per_label": {}},
                    "created_at": EARLIER,
                },
                {
                    "version": "bert-2",
                    "kind": "bert",
                    "stage": "candidate",
                    "metrics": {},
                    "created_at": LATER,
                },
            ],
        )

    models = (await api.http.get("/api/models")).json()["models"]

    assert [(m["version"], m["stage"]) for m in models] == [
        ("bert-2", "candidate"),
        ("xgb-1", "production"),
    ]
    assert (models[1]["macro_f1"], models[1]["micro_f1"]) == (0.61, 0.7)
    assert models[0]["macro_f1"] is None
    assert models[1]["name"] == "genres"


async def test_drift_latest_is_a_404_before_the_first_report(api: Api) -> None:
    detail = problem_of(await api.http.get("/api/drift/latest"), 404)
    assert "no drift report" in detail["message"]

    async with api.db.transaction() as session:
        for report_id, ran_at, verdict in (("r1", EARLIER, "ok"), ("r2", LATER, "warn")):
            session.add(
                DriftReport(id=report_id, ran_at=ran_at, report={"psi": 0.12}, verdict=verdict)
            )

    latest = (await api.http.get("/api/drift/latest")).json()
    assert (latest["id"], latest["verdict"], latest["report"]) == ("r2", "warn", {"psi": 0.12})


async def test_every_endpoint_is_documented_with_tags_and_a_response_model(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    errors = {
        "/api/trends": {"400"},
        "/api/trends/at": {"400", "503"},
        "/api/titles/{title_id}": {"404", "503"},
        "/api/titles/{title_id}/history": {"400", "404", "503"},
        "/api/genres": set(),
        "/api/sources": {"503"},
        "/api/models": {"503"},
        "/api/drift/latest": {"404", "503"},
    }
    for path, statuses in errors.items():
        operation = spec["paths"][path]["get"]
        assert operation["tags"], path
        assert "$ref" in str(operation["responses"]["200"]), path
        assert statuses <= set(operation["responses"]), path
    trends = spec["paths"]["/api/trends"]["get"]["parameters"]
    assert {p["name"] for p in trends} >= {"window", "limit", "genre", "media_type", "cursor"}


async def test_an_unreachable_database_is_a_503_not_a_500() -> None:
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="test")
    await offline.open()
    app = FastAPI()
    add_rest_api(app, TrendHub(), offline)
    try:
        async with serving(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as h:
            detail = problem_of(await h.get("/api/models"), 503)
            assert "database" in detail["message"]
    finally:
        await offline.close()
