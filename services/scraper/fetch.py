"""Fetch chart pages politely: robots.txt, an honest User-Agent, a per-domain pace, small bodies.

Scraping HTML sources is off unless configured, because some sites forbid it in their terms.
When a source is on, this fetcher is the only way its pages are read, and it enforces the
rules rather than offering them:

- only configured URLs are fetched (exact URLs, or prefixes ending in ``/``); a link found in
  a page, such as the grid URL Letterboxd's page shell points at, is fetched only when it is
  configured too;
- robots.txt is read once per origin (cached for ``robots_ttl_s``) and obeyed for our
  User-Agent; a missing robots.txt (404 and other 4xx but 401/403) allows everything, while
  401/403, a 5xx or an unreachable robots.txt refuses everything, because then we cannot
  know what the site allows;
- at most one request per ``min_interval_s`` to each domain (host name);
- ETag / Last-Modified are remembered per URL and sent back, so an unchanged page costs the
  site a 304 (``FetchResult.not_modified``; the caller keeps the body it already has);
- redirects are followed only within the same host (at most ``max_redirects``), where the
  target need not be configured: the site moved its own page, it did not send us elsewhere;
- bodies that are not HTML, or that grow past ``max_bytes``, are refused without reading on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from trendkit.contracts import now_utc

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Google reads only the first 500 KiB of a robots.txt; so do we.
_ROBOTS_MAX_BYTES = 500 * 1024


class FetchError(Exception):
    """A page could not be fetched; ``status`` is the HTTP status when the site answered."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class FetchRefused(FetchError):
    """The fetcher would not fetch (or keep reading) a page, by policy rather than by failure."""


@dataclass(frozen=True)
class FetchPolicy:
    """How politely to fetch: who we say we are, how often, and how much we accept."""

    user_agent: str = "TrendingNow/0.1 (+https://github.com/trending-now/trending-now)"
    min_interval_s: float = 5.0
    max_bytes: int = 5_000_000
    timeout_s: float = 20.0
    max_redirects: int = 5
    robots_ttl_s: float = 24 * 3600.0
    allowed_content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FetchResult:
    """One fetched page; ``body`` is None when the site said it has not changed (304)."""

    url: str  # where the page was found, after same-host redirects: the parser's base URL
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    not_modified: bool = False


@dataclass
class _Robots:
    parser: RobotFileParser
    expires_at: float


@dataclass
class _Validators:
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class PoliteFetcher:
    """Fetch configured HTML pages while obeying robots.txt, a pace and size limits."""

    def __init__(
        self,
        allowed_urls: Iterable[str],
        policy: FetchPolicy | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.allowed_urls = frozenset(allowed_urls)
        for allowed in self.allowed_urls:
            parts = urlsplit(allowed)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"allowed URL must be absolute http(s), got {allowed!r}")
        self._own_client = client is None
        self._client = client or httpx.AsyncClient()
        self._clock = clock
        self._sleep = sleep
        self._robots: dict[str, _Robots] = {}
        self._validators: dict[str, _Validators] = {}
        self._last_request: dict[str, float] = {}
        self._pace_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client, unless the caller lent it."""
        if self._own_client:
            await self._client.aclose()

    def is_configured(self, url: str) -> bool:
        """Say whether ``url`` is one of the configured URLs or lies under a configured prefix."""
        # A prefix must end in "/" so "https://a.com" can never admit "https://a.com.evil.net".
        return url in self.allowed_urls or any(
            allowed.endswith("/") and url.startswith(allowed) for allowed in self.allowed_urls
        )

    async def fetch(self, url: str) -> FetchResult:
        """Fetch one configured page, or raise FetchRefused / FetchError."""
        if not self.is_configured(url):
            raise FetchRefused(url, "not a configured URL")
        current = url
        for hop in range(self.policy.max_redirects + 1):
            await self._check_robots(current)
            if hop == 0:
                # A same-host redirect is part of the same page view, so only the first
                # request waits its turn; a browser would follow the redirect at once.
                await self._wait_turn(current)
            async with self._get(current, self._conditional_headers(current)) as response:
                if response.has_redirect_location:
                    current = self._redirect_target(current, response)
                    continue
                return await self._result(current, response)
        raise FetchError(url, f"more than {self.policy.max_redirects} redirects")

    # --- robots.txt ------------------------------------------------------------------

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots.get(origin)
        if robots is None or robots.expires_at <= self._clock():
            # An unreadable robots.txt raises before this, so it is asked again next time.
            parser = await self._read_robots(url, origin)
            robots = _Robots(parser, self._clock() + self.policy.robots_ttl_s)
            self._robots[origin] = robots
        if not robots.parser.can_fetch(self.policy.user_agent, url):
            raise FetchRefused(url, f"robots.txt disallows it for {self.policy.user_agent!r}")

    async def _read_robots(self, url: str, origin: str) -> RobotFileParser:
        robots_url = f"{origin}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            text = await self._robots_text(robots_url)
        except FetchError as error:
            # Not knowing the rules is not permission: refuse until robots.txt can be read.
            raise FetchRefused(url, f"robots.txt unavailable ({error.reason})") from error
        # No robots.txt means no rules, and a parser fed no rules allows everything.
        parser.parse(text.splitlines() if text is not None else [])
        return parser

    async def _robots_text(self, robots_url: str) -> str | None:
        """Return robots.txt's text, None when the site has none, or raise FetchError."""
        current = robots_url
        for _ in range(self.policy.max_redirects + 1):
            async with self._get(current, {}) as response:
                if response.has_redirect_location:
                    current = self._redirect_target(current, response)
                    continue
                if response.status_code in (401, 403) or response.status_code >= 500:
                    raise FetchError(current, f"HTTP {response.status_code}")
                if response.status_code >= 400:
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= _ROBOTS_MAX_BYTES:
                        break
                return bytes(body[:_ROBOTS_MAX_BYTES]).decode("utf-8", errors="replace")
        raise FetchError(robots_url, f"more than {self.policy.max_redirects} redirects")

    # --- pacing, requests, responses -----------------------------------------------

    async def _wait_turn(self, url: str) -> None:
        domain = urlsplit(url).hostname or ""
        # The lock keeps concurrent fetches to one domain from all waking at once.
        async with self._pace_locks.setdefault(domain, asyncio.Lock()):
            last = self._last_request.get(domain)
            if last is not None:
                wait = last + self.policy.min_interval_s - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._last_request[domain] = self._clock()

    def _conditional_headers(self, url: str) -> dict[str, str]:
        known = self._validators.get(url)
        return dict(known.headers) if known else {}

    @asynccontextmanager
    async def _get(self, url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        request_headers = {"User-Agent": self.policy.user_agent, **headers}
        try:
            async with self._client.stream(
                "GET",
                url,
                headers=request_headers,
                follow_redirects=False,
                timeout=self.policy.timeout_s,
            ) as response:
                yield response
        except httpx.HTTPError as error:
            raise FetchError(url, f"request failed: {error!r}") from error

    def _redirect_target(self, url: str, response: httpx.Response) -> str:
        target = urljoin(url, response.headers["location"])
        here, there = urlsplit(url), urlsplit(target)
        same_host = (here.hostname, here.port) == (there.hostname, there.port)
        upgrade = here.scheme == "http" and there.scheme == "https" and there.port is None
        if there.scheme not in ("http", "https") or not (
            (same_host and here.scheme == there.scheme)
            or (upgrade and here.hostname == there.hostname)
        ):
            raise FetchRefused(url, f"redirect to another host refused: {target}")
        return target

    async def _result(self, url: str, response: httpx.Response) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        if status == 304:
            known = self._validators.get(url, _Validators())
            return FetchResult(
                url=url,
                status=status,
                body=None,
                etag=etag or known.etag,
                last_modified=last_modified or known.last_modified,
                fetched_at=now_utc(),
                not_modified=True,
            )
        if not response.is_success:
            raise FetchError(url, f"HTTP {status}", status=status)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in self.policy.allowed_content_types:
            raise FetchRefused(url, f"not HTML: content type {media_type or 'missing'!r}")
        body = await self._read_limited(url, response)
        self._remember(url, etag, last_modified)
        return FetchResult(
            url=url,
            status=status,
            body=body,
            etag=etag,
            last_modified=last_modified,
            fetched_at=now_utc(),
        )

    async def _read_limited(self, url: str, response: httpx.Response) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchRefused(url, f"body of {declared} bytes is over the {limit}-byte limit")
        body = bytearray()
        # Decoded bytes are counted, so a small gzip bomb cannot slip past the limit.
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchRefused(url, f"body is over the {limit}-byte limit")
        return bytes(body)

    def _remember(self, url: str, etag: str | None, last_modified: str | None) -> None:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self._validators[url] = _Validators(etag, last_modified, headers)
