"""A fake chart site for the fetcher's tests: robots.txt to taste, validators, traps.

Tests set :attr:`FakeSite.robots` / :attr:`FakeSite.robots_status` and read
:attr:`FakeSite.requests` (path and headers, in order) and :attr:`FakeSite.huge_bytes_sent`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

CHART_HTML = "<html><body><ol><li>Harbour of Glass</li></ol></body></html>"
CHART_ETAG = '"chart-v1"'
CHART_LAST_MODIFIED = "Wed, 01 May 2024 12:00:00 GMT"
HUGE_CHUNK = 64 * 1024
HUGE_TOTAL = 256 * 1024 * 1024  # far more than any socket buffer holds


class FakeSite:
    """A small site whose robots.txt and request log the test controls."""

    def __init__(self) -> None:
        self.robots: str = "User-agent: *\nAllow: /\n"
        self.robots_status = 200
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.huge_bytes_sent = 0
        self.app = self._build()

    def paths(self) -> list[str]:
        """Return the paths requested so far, in order."""
        return [path for path, _ in self.requests]

    def _record(self, request: Request) -> None:
        self.requests.append((request.url.path, dict(request.headers)))

    def _build(self) -> FastAPI:
        app = FastAPI(dependencies=[Depends(self._record)])

        @app.get("/robots.txt")
        async def robots() -> Response:
            if self.robots_status != 200:
                return Response("no", status_code=self.robots_status)
            return Response(self.robots, media_type="text/plain")

        @app.get("/chart")
        @app.get("/private/chart")
        async def chart(request: Request) -> Response:
            validators = {"ETag": CHART_ETAG, "Last-Modified": CHART_LAST_MODIFIED}
            etag = request.headers.get("if-none-match")
            since = request.headers.get("if-modified-since")
            if etag == CHART_ETAG or (etag is None and since == CHART_LAST_MODIFIED):
                return Response(status_code=304, headers=validators)
            return HTMLResponse(CHART_HTML, headers=validators)

        @app.get("/huge")
        async def huge() -> StreamingResponse:
            async def chunks() -> AsyncIterator[bytes]:
                chunk = b"<p>" + b"x" * (HUGE_CHUNK - 3)
                while self.huge_bytes_sent < HUGE_TOTAL:
                    self.huge_bytes_sent += len(chunk)
                    yield chunk

            # No Content-Length, so only reading can tell the client how big it is.
            return StreamingResponse(chunks(), media_type="text/html")

        @app.get("/data.json")
        async def data() -> JSONResponse:
            return JSONResponse({"chart": []})

        @app.get("/moved")
        async def moved() -> RedirectResponse:
            return RedirectResponse("/chart", status_code=301)

        @app.get("/away")
        async def away(request: Request) -> RedirectResponse:
            # Same server, another host name: the redirect leaves the configured host.
            return RedirectResponse(f"http://localhost:{request.url.port}/chart", status_code=302)

        @app.get("/loop")
        async def loop() -> RedirectResponse:
            return RedirectResponse("/loop", status_code=302)

        @app.get("/broken")
        async def broken() -> Response:
            return Response("down", status_code=503, media_type="text/html")

        return app
