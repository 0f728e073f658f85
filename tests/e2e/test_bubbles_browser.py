"""The bubble chart in headless Chromium, fed by a real api over a real websocket."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, async_playwright

from services.api.hub import TrendHub
from services.api.rest import build_rest_router
from services.api.routes import build_router, mount_frontend
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from tests.factories import trend_scored
from tests.servers import serving
from trendkit.contracts import MediaType, TrendScored
from trendkit.db.database import Database

pytestmark = pytest.mark.e2e

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path("/tmp/bubbles.png")

SEED: list[tuple[str, MediaType, list[str], float]] = [
    # (name, media type, genres, score)
    ("Dune: Part Two", "movie", ["Science Fiction", "Adventure"], 96),
    ("Shōgun", "tv", ["Drama", "War & Politics"], 88),
    ("The Bear", "tv", ["Comedy", "Drama"], 74),
    ("Alien: Romulus", "movie", ["Horror", "Science Fiction"], 66),
    ("Inside Out 2", "movie", ["Animation", "Family"], 61),
    ("Fallout", "tv", ["Action & Adventure", "Sci-Fi & Fantasy"], 52),
    ("Longlegs", "movie", ["Thriller", "Horror"], 41),
    ("Baby Reindeer", "tv", ["Drama", "Crime"], 33),
    ("Challengers", "movie", ["Romance", "Drama"], 24),
    ("Hacks", "tv", ["Comedy"], 15),
]


def seed_items() -> list[TrendScored]:
    items = []
    for n, (name, media_type, genres, score) in enumerate(SEED, start=1):
        items.append(
            trend_scored(
                title_id=f"tmdb:{media_type}:{1000 + n}",
                name=name,
                media_type=media_type,
                genres=genres,
                score=score,
                rank=n,
                previous_rank=None if n % 4 == 0 else n + (1 if n % 3 else -2),
                summary=f"{name} keeps everyone talking this week.",
                explanation=f"{name} jumped on three charts and critics agree.",
                vibe_tags=["epic", "tense", "gorgeous"][: 1 + n % 3],
            )
        )
    return items


@pytest.fixture
def requirements() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    if not (FRONTEND / "node_modules" / "d3" / "dist" / "d3.min.js").exists():
        pytest.skip("needs d3: run `make frontend` (npm ci in frontend/)")


async def count_bubbles(page: Page, expected: int) -> None:
    await page.wait_for_function(
        "n => document.querySelectorAll('.bubble').length === n", arg=expected, timeout=10_000
    )


@pytest.mark.usefixtures("requirements")
async def test_bubbles_appear_and_update_live_without_reload() -> None:
    hub = TrendHub(flush_interval=0.05)
    hub.load_snapshot(seed_items())
    app = FastAPI()
    # No database here: these tests serve what the hub holds (live rankings, websocket).
    offline = Database("postgresql+asyncpg://127.0.0.1:1/none", service="test")
    app.include_router(build_rest_router(hub, offline, ApiSettings()))
    app.include_router(build_ws_router(hub, ApiSettings()))
    app.include_router(build_router(hub))
    mount_frontend(app, FRONTEND)
    hub.start()
    problems: list[str] = []
    try:
        async with serving(app) as base, async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 860})
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in {"error", "warning"}
                    else None
                ),
            )
            await page.goto(f"http://{base}/")

            await count_bubbles(page, 10)
            await page.wait_for_function(
                "() => document.getElementById('status').textContent === 'live'"
            )
            assert await page.locator("#count").text_content() == "10"
            navigations = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))

            newcomer = trend_scored(
                title_id="tmdb:movie:2024",
                name="Furiosa",
                genres=["Action"],
                score=99,
                rank=1,
                previous_rank=12,
                explanation="Furiosa leapt 11 places after its premiere.",
            )
            hub.apply([newcomer])

            await count_bubbles(page, 11)
            assert await page.locator('.bubble[data-title-id="tmdb:movie:2024"]').count() == 1
            assert await page.locator("#count").text_content() == "11"
            assert navigations == []  # updated in place, no reload

            await page.wait_for_timeout(2500)  # let the simulation settle for the picture
            bubble = page.locator('.bubble[data-title-id="tmdb:movie:2024"]')
            await bubble.hover()
            tooltip = page.locator("#tooltip")
            await tooltip.get_by_text("Furiosa leapt 11 places").wait_for()
            assert "▲ 11" in (await tooltip.text_content() or "")
            await page.screenshot(path=str(SCREENSHOT))
            await browser.close()
    finally:
        await hub.stop()
    assert problems == []
