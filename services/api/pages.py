"""Encoded ``/api/trends`` pages: made once per ranking change, sent to every client.

Pollers all ask for a few views, and a view changes only when the hub applies scored
events (a few times a second). So a page is filtered, sorted, encoded, gzipped and
hashed once per change and kept under its raw query string; every request in between
gets the same bytes and prebuilt headers.

:class:`CachedPages` answers those requests in front of FastAPI's routing, parameter
handling and exception middleware, which were most of what a cached answer cost the
server (``bench/api_rest.py``: 0.35 ms of CPU per request through the route). Everything
else (a page not made yet, bad parameters, any other path) goes on to the app, and the
``/api/trends`` route makes the page and keeps it here.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.hub import TrendHub

CACHE_CONTROL = b"no-cache"  # always revalidate: a ranking moves every few hundred ms
PAGE_CACHE_SIZE = 256
GZIP_LEVEL = 5  # most of level 9's saving at a third of its cost
GZIP_REFUSED = ("q=0", "q=0.0", "q=0.00", "q=0.000")

RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class EncodedPage:
    """A page's JSON body, gzipped too, its ETag, and the headers of each answer.

    Gzip is done here rather than by a middleware so that it happens once per page
    version, not once per request; a 50-item page shrinks about eight-fold. The ETag is
    weak because it names both encodings of the same JSON.
    """

    etag: str
    body: bytes
    gzipped: bytes
    plain_headers: RawHeaders
    gzip_headers: RawHeaders
    not_modified_headers: RawHeaders

    def answer(
        self, if_none_match: str | None, accept_encoding: str | None
    ) -> tuple[int, RawHeaders, bytes]:
        """Return status, headers and body: a 304 when the client holds this version."""
        if etag_matches(if_none_match, self.etag):
            return 304, self.not_modified_headers, b""
        if accepts_gzip(accept_encoding):
            return 200, self.gzip_headers, self.gzipped
        return 200, self.plain_headers, self.body


def encode_page(page: BaseModel) -> EncodedPage:
    """Encode a page, name it by a hash of its bytes, and build each answer's headers."""
    body = page.model_dump_json().encode()
    gzipped = gzip.compress(body, GZIP_LEVEL, mtime=0)
    etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    validators = [
        (b"etag", etag.encode()),
        (b"cache-control", CACHE_CONTROL),
        (b"vary", b"Accept-Encoding"),
    ]
    json_type = (b"content-type", b"application/json")
    return EncodedPage(
        etag=etag,
        body=body,
        gzipped=gzipped,
        plain_headers=[*validators, json_type, (b"content-length", b"%d" % len(body))],
        gzip_headers=[
            *validators,
            json_type,
            (b"content-encoding", b"gzip"),
            (b"content-length", b"%d" % len(gzipped)),
        ],
        not_modified_headers=validators,
    )


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Return whether an ``If-None-Match`` header names this ETag (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Return whether an ``Accept-Encoding`` header admits gzip (``gzip;q=0`` refuses it)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in GZIP_REFUSED
    return False


class PageCache:
    """Encoded pages, valid while the hub holds the same rankings (bounded, LRU).

    Keys are raw query strings, so a hit skips even parameter validation: only pages
    made from valid parameters are ever kept. The hub's count of applied events is its
    version: any change to a ranking increments it and empties the cache.
    """

    def __init__(self, hub: TrendHub, size: int = PAGE_CACHE_SIZE) -> None:
        self.hub = hub
        self.size = size
        self._version = -1
        self._pages: OrderedDict[bytes, EncodedPage] = OrderedDict()

    def get(self, key: bytes) -> EncodedPage | None:
        """Return the page kept under ``key`` if the rankings have not changed since."""
        version = self.hub.stats.events_applied
        if version != self._version:
            self._pages.clear()
            self._version = version
            return None
        return self._pages.get(key)

    def lookup(self, key: bytes, make: Callable[[], EncodedPage]) -> EncodedPage:
        """Return the page under ``key``, or make and keep it."""
        found = self.get(key)
        if found is None:
            found = self._pages[key] = make()
            if len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return found


class PageResponse(Response):
    """A page answered by the route, with the same headers :class:`CachedPages` sends."""

    def __init__(
        self, page: EncodedPage, if_none_match: str | None, accept_encoding: str | None
    ) -> None:
        status, headers, body = page.answer(if_none_match, accept_encoding)
        super().__init__(content=body, status_code=status)
        self.raw_headers = list(headers)


class CachedPages:
    """ASGI middleware: answer ``GET <route.path>`` from the cache when the page is there.

    It sets ``scope["route"]`` as routing would, so the HTTP metrics middleware around
    it labels these answers with the route's template like any other.
    """

    def __init__(self, app: ASGIApp, pages: PageCache, route: BaseRoute) -> None:
        self.app = app
        self.pages = pages
        self.route = route
        self.path: str = getattr(route, "path", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        page = None
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "GET":
            page = self.pages.get(scope["query_string"])
        if page is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        if_none_match = accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding" and accept_encoding is None:
                accept_encoding = value.decode("latin-1")
        status, headers, body = page.answer(if_none_match, accept_encoding)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
