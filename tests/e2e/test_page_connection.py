"""The page's connection in headless Chromium: the api going away and back, pause and live."""

from __future__ import annotations

import pytest

from tests.e2e.test_bubbles_browser import (
    bubble,
    count_bubbles,
    item_for,
    needs_browser,
    page_session,
    screenshot,
)

pytestmark = [pytest.mark.e2e, needs_browser]

STATUS_IS = "text => document.getElementById('status').textContent === text"


async def test_the_page_says_when_the_api_is_down_and_reconnects_when_it_is_back() -> None:
    # Chromium logs each refused websocket connection; that is the point of this test.
    async with page_session(expected_problems=("WebSocket connection",)) as s:
        page = s.page
        await count_bubbles(page, 10)
        await page.wait_for_function(STATUS_IS, arg="live")

        await s.server.stop()
        banner = page.locator("#banner")
        await banner.wait_for(timeout=5_000)
        assert "Lost the connection to the Trending Now server" in (
            await banner.text_content() or ""
        )
        await page.wait_for_function(STATUS_IS, arg="reconnecting")
        assert await page.locator("#chart.stale").count() == 1
        assert await page.locator(".bubble").count() == 10  # the last ranking stays shown
        await screenshot(page, "api-down.png")

        # Changed while the api was away: the fresh snapshot after reconnecting brings it.
        s.api.publish([item_for(60, "Twisters", "movie", ["Action"], 98, rank=1)])
        await s.server.start()  # same port
        await page.wait_for_function(STATUS_IS, arg="live", timeout=15_000)
        await banner.wait_for(state="hidden")
        await count_bubbles(page, 11)
        # ...and the re-subscribed stream carries new deltas again.
        s.api.publish([item_for(61, "Deadpool & Wolverine", "movie", ["Action"], 99, rank=1)])
        await count_bubbles(page, 12)


async def test_pause_freezes_the_view_and_live_resumes_with_a_fresh_snapshot() -> None:
    async with page_session(reduced_motion="reduce") as s:
        page = s.page
        await count_bubbles(page, 10)
        toggle = page.locator("#pause-toggle")
        await toggle.click()
        assert await toggle.text_content() == "Go live"
        assert await page.locator("#view-mode").text_content() == "paused"

        s.api.publish([item_for(70, "Twisters", "movie", ["Action"], 98, rank=1)])
        s.api.publish([item_for(2, "Shōgun", "tv", ["Drama", "War & Politics"], 12.0)])
        await page.wait_for_timeout(500)  # several flushes: none of them is drawn
        assert await page.locator(".bubble").count() == 10
        assert await bubble(page, "tmdb:tv:1002").get_attribute("data-score") == "88"

        await toggle.click()  # "Go live"
        await count_bubbles(page, 11)
        assert await bubble(page, "tmdb:tv:1002").get_attribute("data-score") == "12"
        assert await toggle.text_content() == "Pause"
        assert await page.locator("#view-mode").is_hidden()
