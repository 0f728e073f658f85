"""The polite fetcher against a fake site on a real uvicorn server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from services.scraper.fetch import FetchError, FetchPolicy, FetchRefused, PoliteFetcher
from tests.fake_site import CHART_ETAG, CHART_HTML, CHART_LAST_MODIFIED, HUGE_TOTAL, FakeSite
from tests.servers import serving

pytestmark = pytest.mark.integration

USER_AGENT = FetchPolicy().user_agent


@dataclass
class FakeTime:
    """A clock that only moves when the fetcher sleeps (or the test says so)."""

    now: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@dataclass
class Site:
    fake: FakeSite
    base: str  # http://127.0.0.1:PORT
    port: int


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    fake = FakeSite()
    async with serving(fake.app) as address:
        yield Site(fake, f"http://{address}", int(address.rsplit(":", 1)[1]))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def fetcher(site: Site, fake_time: FakeTime) -> AsyncIterator[PoliteFetcher]:
    """A fetcher configured for the whole fake site on 127.0.0.1 (and /chart on localhost)."""
    allowed = [f"{site.base}/", f"http://localhost:{site.port}/chart"]
    async with PoliteFetcher(
        allowed, FetchPolicy(max_bytes=100_000), clock=fake_time.clock, sleep=fake_time.sleep
    ) as polite:
        yield polite


async def test_page_is_fetched_with_an_honest_user_agent(
    site: Site, fetcher: PoliteFetcher
) -> None:
    result = await fetcher.fetch(f"{site.base}/chart")

    assert result.status == 200
    assert result.body == CHART_HTML.encode()
    assert result.url == f"{site.base}/chart"
    assert not result.not_modified
    assert site.fake.paths() == ["/robots.txt", "/chart"]
    user_agents = {headers["user-agent"] for _, headers in site.fake.requests}
    assert user_agents == {USER_AGENT}
    assert "TrendingNow" in USER_AGENT
    assert "+https://" in USER_AGENT


async def test_robots_disallow_refuses_without_requesting_the_page(
    site: Site, fetcher: PoliteFetcher
) -> None:
    site.fake.robots = "User-agent: TrendingNow\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n"

    with pytest.raises(FetchRefused, match=r"robots\.txt disallows"):
        await fetcher.fetch(f"{site.base}/private/chart")
    assert (await fetcher.fetch(f"{site.base}/chart")).status == 200

    assert site.fake.paths() == ["/robots.txt", "/chart"]


async def test_robots_rules_for_other_agents_do_not_apply(
    site: Site, fetcher: PoliteFetcher
) -> None:
    site.fake.robots = "User-agent: OtherBot\nDisallow: /\n"

    assert (await fetcher.fetch(f"{site.base}/chart")).status == 200


async def test_missing_robots_allows(site: Site, fetcher: PoliteFetcher) -> None:
    site.fake.robots_status = 404

    result = await fetcher.fetch(f"{site.base}/chart")

    assert result.body == CHART_HTML.encode()


@pytest.mark.parametrize("status", [500, 503, 403])
async def test_unreadable_robots_refuses_and_is_asked_again(
    site: Site, fetcher: PoliteFetcher, status: int
) -> None:
    site.fake.robots_status = status

    with pytest.raises(FetchRefused, match=r"robots\.txt unavailable"):
        await fetcher.fetch(f"{site.base}/chart")
    assert site.fake.paths() == ["/robots.txt"]

    site.fake.robots_status = 200
    assert (await fetcher.fetch(f"{site.base}/chart")).status == 200


async def test_robots_is_read_once_per_origin(
    site: Site, fetcher: PoliteFetcher, fake_time: FakeTime
) -> None:
    await fetcher.fetch(f"{site.base}/chart")
    await fetcher.fetch(f"{site.base}/moved")
    await fetcher.fetch(f"http://localhost:{site.port}/chart")

    assert site.fake.paths().count("/robots.txt") == 2  # 127.0.0.1 and localhost


async def test_conditional_request_answered_304_is_not_modified(
    site: Site, fetcher: PoliteFetcher
) -> None:
    first = await fetcher.fetch(f"{site.base}/chart")
    second = await fetcher.fetch(f"{site.base}/chart")

    assert first.etag == CHART_ETAG
    assert first.last_modified == CHART_LAST_MODIFIED
    assert second.not_modified
    assert second.status == 304
    assert second.body is None
    assert second.etag == CHART_ETAG
    page_requests = [headers for path, headers in site.fake.requests if path == "/chart"]
    assert "if-none-match" not in page_requests[0]
    assert page_requests[1]["if-none-match"] == CHART_ETAG
    assert page_requests[1]["if-modified-since"] == CHART_LAST_MODIFIED


async def test_body_over_the_limit_is_refused_without_reading_it_all(
    site: Site, fetcher: PoliteFetcher
) -> None:
    with pytest.raises(FetchRefused, match="over the 100000-byte limit"):
        await fetcher.fetch(f"{site.base}/huge")

    # The server stalls once the socket buffers fill up, far short of the whole body.
    assert site.fake.huge_bytes_sent < HUGE_TOTAL // 4


async def test_declared_length_over_the_limit_is_refused(site: Site, fake_time: FakeTime) -> None:
    async with PoliteFetcher(
        [f"{site.base}/"], FetchPolicy(max_bytes=10), clock=fake_time.clock, sleep=fake_time.sleep
    ) as tiny:
        with pytest.raises(FetchRefused, match="bytes is over the 10-byte limit"):
            await tiny.fetch(f"{site.base}/chart")


async def test_non_html_is_refused(site: Site, fetcher: PoliteFetcher) -> None:
    with pytest.raises(FetchRefused, match="not HTML"):
        await fetcher.fetch(f"{site.base}/data.json")


async def test_redirect_within_the_host_is_followed(site: Site, fetcher: PoliteFetcher) -> None:
    result = await fetcher.fetch(f"{site.base}/moved")

    assert result.url == f"{site.base}/chart"
    assert result.body == CHART_HTML.encode()
    assert site.fake.paths() == ["/robots.txt", "/moved", "/chart"]


async def test_redirect_to_another_host_is_refused(site: Site, fetcher: PoliteFetcher) -> None:
    # localhost:PORT/chart is even configured: a redirect still may not take us there.
    with pytest.raises(FetchRefused, match="redirect to another host"):
        await fetcher.fetch(f"{site.base}/away")

    assert site.fake.paths() == ["/robots.txt", "/away"]


async def test_endless_redirects_fail(site: Site, fetcher: PoliteFetcher) -> None:
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetcher.fetch(f"{site.base}/loop")

    assert site.fake.paths().count("/loop") == 6


async def test_unconfigured_url_is_refused_without_any_request(
    site: Site, fake_time: FakeTime
) -> None:
    async with PoliteFetcher(
        [f"{site.base}/chart", f"{site.base}/lists/"],
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    ) as strict:
        for url in (
            f"{site.base}/moved",
            f"{site.base}/chart?page=2",
            f"{site.base}/lists",
            f"http://localhost:{site.port}/chart",
        ):
            with pytest.raises(FetchRefused, match="not a configured URL"):
                await strict.fetch(url)
        assert strict.is_configured(f"{site.base}/lists/popular")

    assert site.fake.requests == []


async def test_error_status_raises_fetch_error_with_the_status(
    site: Site, fetcher: PoliteFetcher
) -> None:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(f"{site.base}/broken")

    assert caught.value.status == 503
    assert not isinstance(caught.value, FetchRefused)


async def test_unreachable_site_is_refused_for_want_of_robots(fake_time: FakeTime) -> None:
    async with PoliteFetcher(
        ["http://127.0.0.1:9/"], clock=fake_time.clock, sleep=fake_time.sleep
    ) as nowhere:
        with pytest.raises(FetchRefused, match=r"robots\.txt unavailable"):
            await nowhere.fetch("http://127.0.0.1:9/chart")


async def test_each_domain_keeps_its_own_minimum_interval(
    site: Site, fetcher: PoliteFetcher, fake_time: FakeTime
) -> None:
    await fetcher.fetch(f"{site.base}/chart")
    assert fake_time.waits == []

    fake_time.now += 2.0
    await fetcher.fetch(f"{site.base}/chart")
    assert fake_time.waits == [pytest.approx(3.0)]

    # Another host name is another domain: it does not wait for 127.0.0.1.
    await fetcher.fetch(f"http://localhost:{site.port}/chart")
    assert fake_time.waits == [pytest.approx(3.0)]

    fake_time.now += 10.0
    await fetcher.fetch(f"{site.base}/chart")
    assert fake_time.waits == [pytest.approx(3.0)]

    await fetcher.fetch(f"{site.base}/moved")
    assert fake_time.waits == [pytest.approx(3.0), pytest.approx(5.0)]
