"""The enricher as a real process: real broker, Postgres, Redis, and an LLM over real HTTP.

The LLM is ``tests/fake_openai.py`` served on 127.0.0.1 and reached by the service's own
``openai`` client. What must hold: a cache hit makes no request, a changed overview does;
past the budget or with the breaker open titles are enriched locally, and the breaker
closes again; persistent garbage ends in the dead-letter topic; nothing is lost or
duplicated in Postgres.
"""

from __future__ import annotations

import asyncio
import base64
import urllib.request
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import title_observed
from tests.fake_openai import API_KEY, FakeOpenAI, schema_violation, status
from tests.kafka_io import Reader, produce, services
from tests.servers import serving
from trendkit.contracts import (
    TITLES_ENRICHED,
    TITLES_RAW,
    DeadLetter,
    TitleEnriched,
    TitleObserved,
    dlq_topic,
)
from trendkit.db.database import Database
from trendkit.db.models import EnrichmentRow, LlmUsage
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration


def llm_env(address: str, **extra: str) -> dict[str, str]:
    return {
        "ENRICHER_PROVIDER": "openai",
        "ENRICHER_FALLBACK": "lexicon",  # the MiniLM fallback has its own end-to-end test
        "OPENAI_BASE_URL": f"http://{address}/v1",
        "OPENAI_API_KEY": API_KEY,
        "ENRICHER_MODEL": "gpt-4o-mini",
        **extra,
    }


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    llm = FakeOpenAI()
    async with serving(llm.app) as address:
        yield llm, address


def observed(name: str, overview: str = "", **kwargs: object) -> TitleObserved:
    return title_observed(
        name=name,
        overview=overview or f"{name}: a detective returns to her village to solve a murder.",
        **kwargs,  # type: ignore[arg-type]
    )


def enriched(reader: Reader) -> list[TitleEnriched]:
    return [TitleEnriched.model_validate_json(r.value) for r in reader.records if r.value]


async def enrich_step(
    reader: Reader, settings: CommonSettings, events: list[TitleObserved]
) -> dict[str, TitleEnriched]:
    """Send events; wait until each has come out; return the outputs by input event id."""
    await produce(settings, TITLES_RAW, events)
    want = {e.event_id for e in events}
    await reader.until(lambda _: want <= {o.source_event_id for o in enriched(reader)})
    return {o.source_event_id: o for o in enriched(reader) if o.source_event_id in want}


async def count(settings: CommonSettings, column: object) -> int:
    db = Database(settings.database_url, service="test")
    await db.open()
    try:
        async with db.transaction() as session:
            return int(await session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]
    finally:
        await db.close()


def metric(port: int, name: str, labels: Mapping[str, str]) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}}") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_title_is_paid_for_once_and_again_only_when_its_overview_changes(
    settings: CommonSettings, tmp_path: Path, fake: tuple[FakeOpenAI, str]
) -> None:
    llm, address = fake
    titles = [observed(f"Cached Title {i}") for i in range(10)]
    with services(settings, ["enricher"], tmp_path, env=llm_env(address)):
        async with Reader(settings, TITLES_ENRICHED) as reader:
            first = await enrich_step(reader, settings, titles)
            paid = len(llm.requests)
            assert 2 <= paid <= 10  # batched, up to 8 titles a request
            assert {o.enrichment.provenance.provider for o in first.values()} == {"openai"}

            # Seen again (new events, same content): no request at all.
            again = [observed(t.title.name, t.title.overview) for t in titles]
            second = await enrich_step(reader, settings, again)
            assert len(llm.requests) == paid
            assert [second[e.event_id].enrichment for e in again] == [
                first[t.event_id].enrichment for t in titles
            ]

            # A changed overview is new content: asked for, once.
            changed = observed("Cached Title 0", "Now a heist in a snowed-in casino.")
            await enrich_step(reader, settings, [changed])
            assert len(llm.requests) == paid + 1
            sent = llm.requests[-1]["messages"][-1]["content"]
            assert "snowed-in casino" in sent
    assert await count(settings, EnrichmentRow.content_hash) == 11
    usage_rows = await count(settings, LlmUsage.day)
    assert usage_rows == 1  # one day, one model: every request was booked on it


async def test_over_budget_titles_are_enriched_locally(
    settings: CommonSettings, tmp_path: Path, fake: tuple[FakeOpenAI, str]
) -> None:
    llm, address = fake
    # The fake reports ~1k tokens per request: at gpt-4o-mini prices the first request
    # costs more than this budget, so everything after it goes local.
    env = llm_env(address, ENRICHER_DAILY_BUDGET_USD="0.00001")
    with services(settings, ["enricher"], tmp_path, env=env) as running:
        async with Reader(settings, TITLES_ENRICHED) as reader:
            [paid] = (await enrich_step(reader, settings, [observed("Budget One")])).values()
            await asyncio.sleep(5.5)  # the budget re-reads the ledger every 5 s at most
            later = await enrich_step(reader, settings, [observed(f"Budget {i}") for i in range(3)])
        port = running.processes["enricher"].port
        assert paid.enrichment.provenance.provider == "openai"
        assert {o.enrichment.provenance.provider for o in later.values()} == {"local"}
        assert len(llm.requests) == 1
        assert metric(port, "trending_enrich_fallbacks_total", {"reason": "budget"}) == 3
        assert metric(port, "trending_llm_cost_usd_total", {"model": "gpt-4o-mini"}) > 0.00001


async def test_the_breaker_opens_after_failures_and_closes_after_a_good_trial(
    settings: CommonSettings, tmp_path: Path, fake: tuple[FakeOpenAI, str]
) -> None:
    llm, address = fake
    llm.then(status(500), status(500))
    env = llm_env(
        address,
        ENRICHER_MAX_RETRIES="0",
        ENRICHER_BREAKER_FAILURES="2",
        ENRICHER_BREAKER_COOLDOWN_S="2",
    )
    providers: list[str] = []
    with services(settings, ["enricher"], tmp_path, env=env) as running:
        async with Reader(settings, TITLES_ENRICHED) as reader:
            for name in ("Fails A", "Fails B", "While Open"):
                [out] = (await enrich_step(reader, settings, [observed(name)])).values()
                providers.append(out.enrichment.provenance.provider)
            assert len(llm.requests) == 2  # nothing reached the LLM while the breaker was open
            await asyncio.sleep(2.5)
            for name in ("Trial", "Closed Again"):
                [out] = (await enrich_step(reader, settings, [observed(name)])).values()
                providers.append(out.enrichment.provenance.provider)
        port = running.processes["enricher"].port
        assert metric(port, "trending_enrich_fallbacks_total", {"reason": "breaker"}) == 1
        assert metric(port, "trending_enrich_fallbacks_total", {"reason": "error"}) == 2
    assert providers == ["local", "local", "local", "openai", "openai"]
    assert len(llm.requests) == 4


async def test_persistent_garbage_is_dead_lettered_with_the_raw_answer(
    settings: CommonSettings, tmp_path: Path, fake: tuple[FakeOpenAI, str]
) -> None:
    llm, address = fake
    llm.default = schema_violation("genres", ids=(0,))
    garbled = observed("Garbled")
    with services(settings, ["enricher"], tmp_path, env=llm_env(address)):
        await produce(settings, TITLES_RAW, [garbled])
        async with Reader(settings, dlq_topic(TITLES_RAW)) as dead:
            [record] = await dead.until(lambda records: len(records) >= 1)
    letter = DeadLetter.model_validate_json(record.value)
    assert letter.service == "enricher"
    assert "genres" in letter.error
    assert "Cyberpunk" in letter.context["raw_answer"]
    assert TitleObserved.model_validate_json(base64.b64decode(letter.value)) == garbled
    assert len(llm.requests) == 2  # the request and its one repair
    assert await count(settings, EnrichmentRow.content_hash) == 0


async def test_the_local_model_enriches_real_text_end_to_end(
    settings: CommonSettings, tmp_path: Path
) -> None:
    # Our own words, not the dataset's: three titles whose genre a reader would not doubt.
    titles = [
        observed(
            "The Hollow Cellar",
            "A family moves into an old farmhouse where something in the cellar whispers "
            "at night. One by one, they are stalked by a demonic presence.",
        ),
        observed(
            "Orbit of Ash",
            "Astronauts aboard a failing space station race to repair the reactor before "
            "the crew drifts into deep space, far from any rescue.",
            media_type="tv",
        ),
        observed(
            "Twelve Dinners",
            "Two rival chefs fall in love while cooking a wedding banquet together in Paris.",
        ),
    ]
    with services(settings, ["enricher"], tmp_path, env={"ENRICHER_PROVIDER": "local"}):
        async with Reader(settings, TITLES_ENRICHED) as reader:
            out = await enrich_step(reader, settings, titles)
    horror, space, romance = (out[t.event_id].enrichment for t in titles)
    assert {e.provenance.provider for e in (horror, space, romance)} == {"local"}
    assert {e.provenance.model for e in (horror, space, romance)} == {"all-MiniLM-L6-v2"}
    assert "Horror" in horror.genres
    assert "Science Fiction" in space.genres
    assert "Romance" in romance.genres
    for e in (horror, space, romance):
        assert 3 <= len(e.vibe_tags) <= 6
        assert len(e.summary) <= 280
    assert horror.summary.startswith("A family moves into an old farmhouse")
    assert await count(settings, EnrichmentRow.content_hash) == 3
