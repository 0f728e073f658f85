"""`trending scrape once` as an operator runs it, on the real stack, against a fake TMDb."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import func, select

from stack.supervisor import Supervisor
from tests.fake_tmdb import TOKEN, FakeTmdb
from tests.kafka_io import consume_until, service_env
from tests.servers import serving
from trendkit.contracts import TITLES_RAW, TitleObserved
from trendkit.db.database import Database
from trendkit.db.models import ObservationRow, Title, TitleAlias
from trendkit.objectstore import ObjectStore, open_object_store
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


async def scrape_once(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in a child process (this loop keeps serving the fake TMDb meanwhile)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "scrape",
        "once",
        *args,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_scrape_once_publishes_stores_and_archives(
    settings: CommonSettings, s3_endpoint_url: str
) -> None:
    fake = FakeTmdb(page_size=10)
    bucket = f"scrape-{settings.topic_prefix.strip('.')}"
    async with serving(fake.app) as address:
        env = {
            **service_env(settings),
            "TMDB_API_TOKEN": TOKEN,
            "TMDB_BASE_URL": f"http://{address}",
            "OBJECT_STORE_URL": f"s3://{bucket}/archive",
            "S3_ENDPOINT_URL": s3_endpoint_url,
            **{k: os.environ[k] for k in os.environ if k.startswith("AWS_")},
        }
        code, out, err = await scrape_once(env, "--source", "tmdb", "--dry-run")
        assert code == 0, err
        dry = [TitleObserved.model_validate_json(line) for line in out.splitlines()]
        assert dry
        assert {o.observation.source for o in dry} >= {"tmdb_trending_day", "tmdb_popular_movie"}

        details_fetched = fake.details_requests()
        code, out, err = await scrape_once(env, "--source", "tmdb")
        assert code == 0, err
        assert f"published {len(dry)} observations" in err
        assert details_fetched > 0
        assert fake.details_requests() == details_fetched  # details came from Redis
        # A second cycle of the same charts publishes and stores nothing twice over.
        code, _, err = await scrape_once(env, "--source", "tmdb")
        assert code == 0, err

    records = await consume_until(settings, TITLES_RAW, lambda r: len(r) >= 2 * len(dry))
    events = [TitleObserved.model_validate_json(r.value) for r in records]
    assert all(e.title_id.startswith("tmdb:") for e in events)
    assert all(r.key == e.title_id.encode() for r, e in zip(records, events, strict=True))

    db = Database(settings.database_url, service="test")
    await db.open()
    try:
        async with db.transaction() as session:
            titles = await session.scalar(select(func.count()).select_from(Title))
            aliases = await session.scalar(select(func.count()).select_from(TitleAlias))
            observations = await session.scalar(select(func.count()).select_from(ObservationRow))
    finally:
        await db.close()
    assert titles == len({e.title_id for e in dry})
    assert aliases
    assert aliases >= titles
    assert observations == 2 * len(dry)  # two cycles at two instants, nothing doubled

    store: ObjectStore = open_object_store(f"s3://{bucket}/archive", endpoint_url=s3_endpoint_url)
    try:
        raw = await store.list("raw/tmdb/")
        assert raw
        assert all(k.endswith(".json.gz") for k in raw)  # every API answer, archived
        keys = await store.list("observations/")
        assert keys
        assert all(k.endswith(".parquet") and "/source=tmdb_" in k for k in keys)
        table = pq.read_table(io.BytesIO(await store.get(keys[0])))
        assert table.num_rows > 0
        assert {"event_id", "title_id", "rank", "signals"} <= set(table.column_names)
        assert json.loads(table.column("signals")[0].as_py())
    finally:
        await store.close()


async def test_an_unconfigured_html_source_is_refused(settings: CommonSettings) -> None:
    code, _, err = await scrape_once(service_env(settings), "--source", "imdb_moviemeter")
    assert code == 2
    assert "HTML sources are off until SCRAPER_HTML_SOURCES names them" in err


async def test_a_configured_chart_page_is_fetched_politely_and_parsed(
    settings: CommonSettings,
) -> None:
    page = (REPO / "tests" / "fixtures" / "pages" / "imdb_moviemeter.html").read_text()
    site = FastAPI()
    seen: list[str] = []

    @site.get("/robots.txt")
    async def robots(request: Request) -> PlainTextResponse:
        seen.append(request.headers["user-agent"])
        return PlainTextResponse("User-agent: *\nDisallow: /private/\n")

    @site.get("/chart/moviemeter")
    async def chart() -> HTMLResponse:
        return HTMLResponse(page)

    async with serving(site) as address:
        env = {
            **service_env(settings),
            "SCRAPER_HTML_SOURCES": json.dumps(
                {"imdb_moviemeter": f"http://{address}/chart/moviemeter"}
            ),
        }
        code, out, err = await scrape_once(env, "--source", "imdb_moviemeter", "--dry-run")
        assert code == 0, err
        code, _, err = await scrape_once(env, "--source", "imdb_moviemeter")
    assert code == 0, err
    store = open_object_store(settings.object_store_url)
    try:
        [raw] = await store.list("raw/imdb_moviemeter/")
        assert raw.endswith(".html.gz")
        assert gzip.decompress(await store.get(raw)).decode() == page  # the page, as fetched
    finally:
        await store.close()
    events = [TitleObserved.model_validate_json(line) for line in out.splitlines()]
    assert [e.observation.rank for e in events] == list(range(1, len(events) + 1))
    assert events[0].title.name == "The Glass Orchard"
    assert events[0].scraped_by.provider == "html"
    assert seen
    assert seen[0].startswith("TrendingNow/")  # robots.txt was read, as ourselves


async def test_the_scraper_service_runs_the_tmdb_source_on_its_schedule(
    settings: CommonSettings, tmp_path: Path
) -> None:
    fake = FakeTmdb(page_size=10)
    async with serving(fake.app) as address:
        env = {
            **service_env(settings),
            "SCRAPER_REPLAY_FILE": "",  # only the TMDb source
            "TMDB_API_TOKEN": TOKEN,
            "TMDB_BASE_URL": f"http://{address}",
            "TRENDING_SKIP_MIGRATIONS": "0",
        }
        supervisor = Supervisor(env=env, root=tmp_path, services=("scraper",))
        # In threads: this event loop must keep serving the fake TMDb meanwhile.
        await asyncio.to_thread(supervisor.start)
        try:
            await asyncio.to_thread(supervisor.wait_healthy, 60)
            records = await consume_until(settings, TITLES_RAW, lambda r: len(r) >= 5)
        finally:
            await asyncio.to_thread(supervisor.stop)
    events = [TitleObserved.model_validate_json(r.value) for r in records]
    assert len(events) >= 5
    assert {e.scraped_by.provider for e in events} == {"tmdb"}
