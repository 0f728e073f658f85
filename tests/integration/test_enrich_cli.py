"""``trending enrich FILE``: the service's cache and budget, from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.factories import title_observed
from tests.fake_openai import API_KEY, FakeOpenAI
from tests.servers import serving
from trendkit.contracts import TitleEnriched
from trendkit.settings import CommonSettings

pytestmark = pytest.mark.integration

CSV = (
    "title,overview,year,media_type\n"
    'Harbour of Glass,"A lighthouse keeper finds letters from a stranger.",2024,movie\n'
    'Static Bloom,"Teenagers chase a radio signal from the future.",2025,tv\n'
    "Night Ledger,An accountant uncovers a heist.,2023,movie\n"
)


@pytest.fixture
async def llm() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    async with serving(fake.app) as address:
        yield fake, address


async def trending(settings: CommonSettings, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the CLI as a process without blocking the loop the fake LLM is served on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "TOPIC_PREFIX": settings.topic_prefix,
            **env,
        },
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_a_file_is_enriched_by_the_llm_once_then_from_the_cache(
    settings: CommonSettings, tmp_path: Path, llm: tuple[FakeOpenAI, str]
) -> None:
    fake, address = llm
    titles = tmp_path / "titles.csv"
    titles.write_text(CSV)
    env = {
        "OPENAI_BASE_URL": f"http://{address}/v1",
        "OPENAI_API_KEY": API_KEY,
        "ENRICHER_FALLBACK": "lexicon",
    }

    code, out, err = await trending(settings, "enrich", str(titles), "--provider", "openai", **env)
    assert code == 0, err
    first = [TitleEnriched.model_validate_json(line) for line in out.splitlines()]
    assert [e.title.name for e in first] == ["Harbour of Glass", "Static Bloom", "Night Ledger"]
    assert {e.enrichment.provenance.provider for e in first} == {"openai"}
    assert len(fake.requests) == 1

    code, out, err = await trending(settings, "enrich", str(titles), "--provider", "openai", **env)
    assert code == 0, err
    second = [TitleEnriched.model_validate_json(line) for line in out.splitlines()]
    assert [e.enrichment for e in second] == [e.enrichment for e in first]
    assert len(fake.requests) == 1  # every answer came from the cache
    assert "3 from the cache" in err


async def test_json_lines_of_raw_events_work_with_the_local_lexicon(
    settings: CommonSettings, tmp_path: Path
) -> None:
    events = [title_observed(name=f"Line {i}") for i in range(3)]
    titles = tmp_path / "raw.jsonl"
    titles.write_text("".join(e.model_dump_json() + "\n" for e in events))
    code, out, err = await trending(settings, "enrich", str(titles), "--provider", "lexicon")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["source_event_id"] for x in lines] == [e.event_id for e in events]
    assert {x["enrichment"]["provenance"]["model"] for x in lines} == {"keyword-lexicon"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.csv",
            "title,plot\nA,B\n",
            "bad.csv: a CSV of titles needs the columns title and overview; missing overview",
        ),
        ("bad.jsonl", '{"event_id": "x"}\n', "bad.jsonl:1: not a titles.raw event"),
        ("year.csv", "title,overview,media_type\nA,B,podcast\n", "year.csv: row 1: media_type"),
    ],
)
async def test_a_bad_file_is_named_with_its_problem(
    settings: CommonSettings, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, _, err = await trending(settings, "enrich", str(path), "--provider", "lexicon")
    assert code == 1
    assert message in " ".join(err.split())


async def test_asking_for_the_llm_without_a_key_says_what_to_set(
    settings: CommonSettings, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    code, _, err = await trending(
        settings, "enrich", str(path), "--provider", "openai", OPENAI_API_KEY=""
    )
    assert code == 2
    assert "needs OPENAI_API_KEY" in " ".join(err.split())
