"""The page's panels in headless Chromium: title details, server text as text, time travel."""

from __future__ import annotations

from typing import Literal

import pytest

from tests.e2e.test_bubbles_browser import (
    SEED,
    bubble,
    count_bubbles,
    item_for,
    needs_browser,
    page_session,
    screenshot,
)

pytestmark = [pytest.mark.e2e, needs_browser]

HOSTILE = "<img src=x onerror=alert(1)>"
# Reduced motion draws the layout at once, so clicks need not wait for bubbles to settle.
STILL: Literal["reduce"] = "reduce"


async def test_clicking_a_bubble_opens_details_with_history_and_genres() -> None:
    async with page_session(reduced_motion=STILL, expected_problems=("404",)) as s:
        page = s.page
        await count_bubbles(page, 10)
        dune = bubble(page, "tmdb:movie:1001")
        await dune.click()
        panel = page.locator("#detail")
        await panel.wait_for()
        assert await panel.get_attribute("role") == "dialog"
        await panel.locator("#detail-title").get_by_text("Dune: Part Two").wait_for()
        # One sparkline per window, from /api/titles/{id}/history.
        await page.wait_for_function(
            "() => document.querySelectorAll('#detail .sparkline').length === 3"
        )
        windows = await panel.locator(".spark-row").evaluate_all(
            "rows => rows.map(r => [r.dataset.window, r.querySelector('svg').dataset.points])"
        )
        assert windows == [["live", "24"], ["day", "24"], ["week", "24"]]
        path = await panel.locator(".spark-line").first.get_attribute("d") or ""
        assert path.startswith("M")
        assert path.count("L") == 23  # 24 points
        # Model against LLM genres, from /api/titles/{id}.
        table = panel.locator(".genre-table")
        await table.wait_for()
        rows = await table.locator("tbody tr").all_inner_texts()
        assert [r.split("\t")[0] for r in rows] == ["Science Fiction", "Adventure", "Thriller"]
        assert "35 %" in rows[2]
        assert "agree on 1 of 3 genres" in (await panel.text_content() or "")
        assert await dune.evaluate("el => el.classList.contains('selected')")
        await screenshot(page, "detail-panel.png")

        await panel.locator(".detail-close").click()
        await panel.wait_for(state="hidden")
        assert await page.evaluate("() => document.activeElement.dataset.titleId") == (
            "tmdb:movie:1001"
        )

        # A title the REST api does not know: the panel says so instead of failing.
        s.api.hub.apply([item_for(40, "Nosferatu", "movie", ["Horror"], 99)])
        await count_bubbles(page, 11)
        await bubble(page, "tmdb:movie:1040").click()
        await panel.get_by_text("Details unavailable").wait_for()
        await page.keyboard.press("Escape")
        await panel.wait_for(state="hidden")


async def test_text_from_the_server_is_shown_as_text() -> None:
    async with page_session(reduced_motion=STILL) as s:
        page = s.page
        await count_bubbles(page, 10)
        hostile = item_for(
            50,
            HOSTILE,
            "movie",
            ["<b>Noir</b>"],
            100,
            rank=1,
            summary=f"Summary {HOSTILE}",
            vibe_tags=["<script>alert(2)</script>"],
            explanation=f"Because {HOSTILE}",
        )
        s.api.publish([hostile])
        await count_bubbles(page, 11)
        target = bubble(page, hostile.title_id)
        assert HOSTILE in (await target.get_attribute("aria-label") or "")
        await target.hover()
        tooltip = page.locator("#tooltip")
        await tooltip.get_by_text(HOSTILE, exact=True).wait_for()
        await tooltip.get_by_text("<script>alert(2)</script>").wait_for()
        await target.click()
        await page.locator("#detail-title").get_by_text(HOSTILE, exact=True).wait_for()
        assert await page.locator(".legend-list").get_by_text("<b>Noir</b>").is_visible()
        assert await page.locator("#genre-select option", has_text="<b>Noir</b>").count() == 1
        assert await page.locator("img[src='x'], b, script:not([src])").count() == 0
        await page.wait_for_timeout(300)  # an onerror handler would have fired by now
        await screenshot(page, "server-text-as-text.png")
    # page_session asserts that no dialog opened and nothing was logged.


async def test_time_slider_shows_a_past_ranking_and_returns_to_live() -> None:
    async with page_session(reduced_motion=STILL) as s:
        page = s.page
        await count_bubbles(page, 10)
        slider = page.locator("#time-slider")
        await slider.focus()
        await page.keyboard.press("Home")  # 24 h ago
        await count_bubbles(page, 3)
        names = await page.eval_on_selector_all(
            ".bubble", "els => els.map(e => e.getAttribute('aria-label').split(' (')[0]).sort()"
        )
        assert names == ["Barbie", "Oppenheimer", "Succession"]
        assert await page.locator("#time-label").text_content() == await slider.get_attribute(
            "aria-valuetext"
        )
        assert (await page.locator("#time-label").text_content() or "").startswith("24 h ago")
        assert await page.locator("#view-mode").text_content() == "history"
        assert await page.locator("#pause-toggle").text_content() == "Go live"

        # Live updates do not disturb the past view.
        s.api.publish([item_for(10, *SEED[9][:3], 99.0)])
        await page.wait_for_timeout(400)
        assert await page.locator(".bubble").count() == 3
        await screenshot(page, "time-slider-past.png")

        await page.keyboard.press("End")  # back to now: live, with a fresh snapshot
        await count_bubbles(page, 10)
        await page.wait_for_function(
            "() => document.querySelector(`.bubble[data-title-id='tmdb:tv:1010']`)"
            "?.dataset.score === '99'"
        )
        assert await page.locator("#view-mode").is_hidden()
        assert await page.locator("#time-label").text_content() == "now (live)"
