"""The bubble chart in headless Chromium, fed by a real api over a real websocket.

The page's REST calls (a title, its history, the ranking at a past time) are served by a
small app of this module's own with fixture data, beside the real hub and websocket route;
the other ``test_page_*`` modules reuse what is built here.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException
from playwright.async_api import Page, async_playwright

from services.api.hub import TrendHub
from services.api.routes import build_router, mount_frontend
from services.api.settings import ApiSettings
from services.api.ws import build_ws_router
from tests.factories import trend_scored
from trendkit.contracts import MediaType, TrendScored
from trendkit.runtime import listening_socket

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots CI keeps

needs_browser = pytest.mark.skipif(
    not Path(CHROMIUM).exists()
    or not (FRONTEND / "node_modules" / "d3" / "dist" / "d3.min.js").exists(),
    reason="needs Debian's chromium and d3 (`make frontend`: npm ci in frontend/)",
)
pytestmark = [pytest.mark.e2e, needs_browser]

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
# What was trending earlier: the time slider's past ranking.
PAST: list[tuple[str, MediaType, list[str], float]] = [
    ("Oppenheimer", "movie", ["History", "Drama"], 91),
    ("Succession", "tv", ["Drama"], 70),
    ("Barbie", "movie", ["Comedy", "Fantasy"], 58),
]


def item_for(
    n: int, name: str, media_type: MediaType, genres: list[str], score: float, **overrides: Any
) -> TrendScored:
    """Return a scored title in the style of the seed (title id from ``n``)."""
    fields: dict[str, Any] = {
        "title_id": f"tmdb:{media_type}:{1000 + n}",
        "name": name,
        "media_type": media_type,
        "genres": genres,
        "score": score,
        "rank": n,
        "previous_rank": None if n % 4 == 0 else n + (1 if n % 3 else -2),
        "summary": f"{name} keeps everyone talking this week.",
        "explanation": f"{name} jumped on three charts and critics agree.",
        "vibe_tags": ["epic", "tense", "gorgeous"][: 1 + n % 3],
    }
    fields.update(overrides)
    return trend_scored(**fields)


def seed_items() -> list[TrendScored]:
    return [item_for(n, *row) for n, row in enumerate(SEED, start=1)]


def past_items(at: datetime, window: str) -> list[TrendScored]:
    return [
        item_for(500 + n, *row, rank=n, previous_rank=n, observed_at=at, window=window)
        for n, row in enumerate(PAST, start=1)
    ]


@dataclass
class PageApi:
    """The hub the websocket serves, plus what the REST fixture endpoints answer."""

    hub: TrendHub = field(default_factory=lambda: TrendHub(flush_interval=0.05))
    titles: dict[str, TrendScored] = field(default_factory=dict)

    def publish(self, items: list[TrendScored], *, initial: bool = False) -> None:
        """Make items current: in the hub (so on the websocket) and in the REST fixtures."""
        for item in items:
            self.titles[item.title_id] = item
        if initial:
            self.hub.load_snapshot(items)
        else:
            self.hub.apply(items)

    def title_body(self, title_id: str) -> dict[str, Any]:
        item = self.titles.get(title_id)
        if item is None:
            raise HTTPException(status_code=404, detail="unknown title")
        genres = item.genres
        probabilities = {g: round(0.9 - 0.2 * i, 2) for i, g in enumerate(genres)}
        probabilities["Thriller"] = probabilities.get("Thriller", 0.35)
        return {
            "title_id": title_id,
            "title": {
                **item.title.model_dump(mode="json", include={"name", "media_type", "year"}),
                "overview": f"{item.title.name}: the overview.",
                "poster_url": None,
                "tmdb_id": 42,
            },
            "enrichment": {
                "summary": item.summary,
                "vibe_tags": item.vibe_tags,
                "genres": genres,
                "hype_score": 72,
                "provider": "openai",
                "model": "gpt-4o-mini",
            },
            "genres": {
                "llm": genres,
                "model": [*genres[:1], "Thriller"],
                "model_probabilities": probabilities,
                "model_version": "xgb-2024-06",
                "source": genres[:1],
            },
            "scores": {"live": None, "day": item.model_dump(mode="json"), "week": None},
        }

    def router(self) -> APIRouter:
        """Return the REST endpoints the page calls, answering from fixtures."""
        router = APIRouter()

        @router.get("/api/trends")
        async def trends(window: str = "day", limit: int = 50) -> dict[str, Any]:
            items = self.hub.ranking(window, limit=limit)  # type: ignore[arg-type]
            return {"window": window, "count": len(items), "items": items}

        @router.get("/api/trends/at")
        async def trends_at(time: datetime, window: str = "day", limit: int = 50) -> Any:
            if time < datetime.now(time.tzinfo) - timedelta(minutes=30):
                items = past_items(time, window)[:limit]
            else:
                items = self.hub.ranking(window, limit=limit)  # type: ignore[arg-type]
            body = [i.model_dump(mode="json") for i in items]
            return {"window": window, "at": time.isoformat(), "count": len(body), "items": body}

        @router.get("/api/titles/{title_id}/history")
        async def history(title_id: str, window: str = "day") -> dict[str, Any]:
            item = self.titles.get(title_id)
            if item is None:
                raise HTTPException(status_code=404, detail="unknown title")
            step = timedelta(hours=6 if window == "week" else 1)
            now = datetime.now().astimezone()
            points = [
                {
                    "at": (now - step * (23 - i)).isoformat(),
                    "score": round(item.score * (0.3 + 0.7 * i / 23), 1),
                    "rank": max(1, item.rank + (23 - i) // 4),
                }
                for i in range(24)
            ]
            return {"title_id": title_id, "window": window, "points": points}

        @router.get("/api/titles/{title_id}")
        async def title(title_id: str) -> dict[str, Any]:
            return self.title_body(title_id)

        return router

    def app(self) -> FastAPI:
        app = FastAPI()
        app.include_router(self.router())
        app.include_router(build_ws_router(self.hub, ApiSettings()))
        app.include_router(build_router(self.hub))
        mount_frontend(app, FRONTEND)
        return app


class Server:
    """Uvicorn on a fixed 127.0.0.1 port that can be stopped and started again."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        sock = listening_socket(port=self.port)
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        self._sock, self._server = sock, server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None or self._sock is None:
            return
        self._server.should_exit = True
        await self._task
        self._sock.close()
        self._server = self._task = self._sock = None


@dataclass
class Session:
    """A served page in Chromium, what it complained about, and the api behind it."""

    page: Page
    api: PageApi
    server: Server
    problems: list[str]
    dialogs: list[str]


@asynccontextmanager
async def page_session(
    *,
    width: int = 1400,
    height: int = 860,
    reduced_motion: Literal["reduce", "no-preference"] = "no-preference",
    path: str = "/",
    expected_problems: tuple[str, ...] = (),
) -> AsyncIterator[Session]:
    """Serve the page over the seeded api, open it in Chromium, and check it stayed clean."""
    api = PageApi()
    api.publish(seed_items(), initial=True)
    server = Server(api.app())
    api.hub.start()
    await server.start()
    problems: list[str] = []
    dialogs: list[str] = []
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            )
            page = await browser.new_page(
                viewport={"width": width, "height": height}, reduced_motion=reduced_motion
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in {"error", "warning"}
                    else None
                ),
            )

            async def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", on_dialog)
            await page.goto(f"http://{server.base}{path}")
            yield Session(page, api, server, problems, dialogs)
            await browser.close()
    finally:
        await server.stop()
        await api.hub.stop()
    unexpected = [p for p in problems if not any(e in p for e in expected_problems)]
    assert unexpected == []
    assert dialogs == []


async def count_bubbles(page: Page, expected: int) -> None:
    await page.wait_for_function(
        "n => document.querySelectorAll('.bubble').length === n", arg=expected, timeout=10_000
    )


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / name))


def bubble(page: Page, title_id: str) -> Any:
    return page.locator(f'.bubble[data-title-id="{title_id}"]')


async def test_bubbles_appear_and_update_live_without_reload() -> None:
    async with page_session() as s:
        page = s.page
        await count_bubbles(page, 10)
        await page.wait_for_function(
            "() => document.getElementById('status').textContent === 'live'"
        )
        assert await page.locator("#count").text_content() == "10"
        assert await page.locator("#banner").is_hidden()
        navigations: list[str] = []
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
        s.api.publish([newcomer])
        await count_bubbles(page, 11)
        assert await bubble(page, "tmdb:movie:2024").count() == 1
        assert await page.locator("#count").text_content() == "11"

        # A new score for a title already shown changes its bubble in place, promptly.
        hacks = "tmdb:tv:1010"
        small = await bubble(page, hacks).locator("circle.body").get_attribute("r")
        s.api.publish([item_for(10, *SEED[9][:3], 97.0, rank=2, previous_rank=10)])
        await page.wait_for_function(
            "id => document.querySelector(`.bubble[data-title-id='${id}']`)"
            "?.dataset.score === '97'",
            arg=hacks,
            timeout=2_000,
        )
        await page.wait_for_function(
            """([id, before]) => {
                const body = document.querySelector(`.bubble[data-title-id='${id}'] circle.body`);
                return Number(body.getAttribute('r')) > 2 * Number(before);
            }""",
            arg=[hacks, small],
        )
        assert "rank 2, up 8, score 97" in (
            await bubble(page, hacks).get_attribute("aria-label") or ""
        )
        assert navigations == []  # updated in place, no reload

        await page.wait_for_timeout(1500)  # let the simulation settle for the picture
        await bubble(page, "tmdb:movie:2024").hover()
        tooltip = page.locator("#tooltip")
        await tooltip.get_by_text("Furiosa leapt 11 places").wait_for()
        text = await tooltip.text_content() or ""
        assert "▲ 11" in text
        assert "Why it's trending" in text
        assert "TMDb trending day" in text  # the words, from the score's components
        await screenshot(page, "bubbles-desktop.png")


async def test_genre_filter_hides_other_genres() -> None:
    async with page_session() as s:
        page = s.page
        await count_bubbles(page, 10)
        await page.select_option("#genre-select", "Horror")
        await count_bubbles(page, 2)
        ids = await page.eval_on_selector_all(".bubble", "els => els.map(e => e.dataset.titleId)")
        assert sorted(ids) == ["tmdb:movie:1004", "tmdb:movie:1007"]  # Alien: Romulus, Longlegs
        genres = await page.eval_on_selector_all(".bubble", "els => els.map(e => e.dataset.genre)")
        assert genres == ["Horror", "Horror"]  # coloured by the genre asked for
        assert await page.locator(".legend-list li .genre").all_text_contents() == ["Horror"]
        assert "genre=Horror" in page.url

        # New titles outside the filter stay out; the legend's genre resets it.
        s.api.publish([item_for(30, "Bluey", "tv", ["Animation"], 99)])
        await page.wait_for_timeout(400)
        assert await page.locator(".bubble").count() == 2
        await page.locator(".legend-list li").first.click()
        await count_bubbles(page, 11)
        assert await page.locator("#genre-select").input_value() == ""


async def test_small_screen_keyboard_and_reduced_motion() -> None:
    async with page_session(width=390, height=844, reduced_motion="reduce") as s:
        page = s.page
        await count_bubbles(page, 10)
        await screenshot(page, "bubbles-390px.png")
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0  # nothing wider than the phone
        for control in ["#window-select", "#media-select", "#genre-select", "#time-slider"]:
            assert await page.locator(control).is_visible()
        # Reduced motion: bubbles are drawn at their final size at once.
        assert await page.locator(".bubble circle.pulse").count() == 0

        # One tab stop for the chart; arrows move between bubbles; Enter opens details.
        await page.locator(".bubble[tabindex='0']").focus()
        first = await page.evaluate("() => document.activeElement.dataset.titleId")
        assert first == "tmdb:movie:1001"  # rank 1
        await page.keyboard.press("End")
        assert await page.evaluate("() => document.activeElement.dataset.titleId") == "tmdb:tv:1010"
        seen = set()
        for key in ["ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown"] * 2:
            await page.keyboard.press(key)
            seen.add(await page.evaluate("() => document.activeElement.dataset.titleId"))
        assert len(seen) >= 3
        assert await page.locator(".bubble[tabindex='0']").count() == 1
        focused = await page.evaluate("() => document.activeElement.dataset.titleId")
        await page.locator("#tooltip.visible").wait_for()
        await page.keyboard.press("Enter")
        await page.locator("#detail .sparkline").first.wait_for()
        await screenshot(page, "bubbles-390px-detail.png")
        await page.keyboard.press("Escape")
        await page.locator("#detail").wait_for(state="hidden")
        assert await page.evaluate("() => document.activeElement.dataset.titleId") == focused
