"""HTTP and websocket routes of the api, and the static frontend.

Thin by design: validate, call the :class:`~services.api.hub.TrendHub`, return. The app
wiring (lifespan, Kafka consumer, starting the hub's flush loop) lives in ``__main__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.types import Scope

from services.api.hub import Client, TrendHub
from services.api.protocol import MAX_LIMIT, ProtocolError, parse_client_message
from trendkit.contracts import MediaType, TrendScored, Window

log = logging.getLogger(__name__)

D3_PATH = PurePosixPath("node_modules/d3/dist/d3.min.js")

# Everything the page needs is served from here; posters may come from TMDb's image CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class TrendsQuery(BaseModel):
    """Query parameters of ``GET /api/trends``."""

    window: Window = "day"
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    media_type: MediaType | None = None
    genre: list[str] = Field(default_factory=list)


class TrendsPage(BaseModel):
    """Body of ``GET /api/trends``: one window's titles, best rank first."""

    window: Window
    count: int
    items: list[TrendScored]


def build_router(hub: TrendHub) -> APIRouter:
    """Return the api's routes, serving from ``hub``."""
    router = APIRouter()

    @router.get("/api/trends", response_model=TrendsPage, tags=["trends"])
    async def list_trends(
        window: Annotated[str, Query(description="live, day or week")] = "day",
        limit: Annotated[str, Query(description=f"1 to {MAX_LIMIT}")] = "50",
        media_type: Annotated[str, Query(description="movie, tv, or empty for both")] = "",
        genre: Annotated[list[str] | None, Query(description="repeat or comma-separate")] = None,
    ) -> TrendsPage:
        """Return the current ranking of one window, optionally filtered."""
        genres = [g.strip() for value in genre or [] for g in value.split(",") if g.strip()]
        try:
            query = TrendsQuery.model_validate(
                {
                    "window": window,
                    "limit": limit,
                    "media_type": media_type or None,
                    "genre": genres,
                }
            )
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            parameter = str(first["loc"][0]) if first["loc"] else "query"
            raise HTTPException(
                status_code=400,
                detail={"parameter": parameter, "message": f"{parameter}: {first['msg']}"},
            ) from None
        items = hub.ranking(
            query.window,
            genres=query.genre,
            media_types=[query.media_type] if query.media_type else [],
            limit=query.limit,
        )
        return TrendsPage(window=query.window, count=len(items), items=items)

    @router.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Report liveness, connected clients and how many titles each window holds."""
        return {
            "status": "ok",
            "clients": len(hub.clients),
            "titles": hub.title_counts(),
            "stats": asdict(hub.stats),
        }

    @router.websocket("/ws/trends")
    async def trends_socket(websocket: WebSocket) -> None:
        """Stream snapshot/delta/heartbeat messages for the client's subscription."""
        await websocket.accept()
        client = hub.connect()
        reader = asyncio.create_task(_read_messages(websocket, hub, client))
        writer = asyncio.create_task(_write_messages(websocket, client))
        try:
            # Whichever side ends first (client went away, send failed) ends both.
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hub.disconnect(client)
            for task in (reader, writer):
                task.cancel()
            for task in (reader, writer):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task

    return router


async def _read_messages(websocket: WebSocket, hub: TrendHub, client: Client) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            hub.send_error(client, "send JSON as text frames, not binary")
            continue
        try:
            request = parse_client_message(text)
        except ProtocolError as error:
            hub.send_error(client, str(error))
            continue
        hub.subscribe(client, request.to_subscription())


async def _write_messages(websocket: WebSocket, client: Client) -> None:
    try:
        while True:
            await websocket.send_text(await client.queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError) as error:
        # The peer went away mid-send; the reader notices too. Nothing to report upwards.
        log.debug("websocket client %s: send failed: %r", client.id, error)


class _FrontendFiles(StaticFiles):
    """The frontend folder, minus what a browser has no business fetching."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        parts = PurePosixPath(path).parts
        hidden = any(p.startswith(".") for p in parts) or (
            parts and parts[0] in {"node_modules", "package.json", "package-lock.json"}
        )
        if hidden:
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        # Small files, edited often in development: revalidate (ETag) rather than cache.
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


def mount_frontend(app: FastAPI, frontend_dir: Path) -> None:
    """Serve the page at ``/`` and d3 at ``/vendor/d3.min.js``; call after adding routers."""
    d3_file = frontend_dir / D3_PATH

    @app.get("/vendor/d3.min.js", include_in_schema=False)
    async def d3_script() -> Response:
        if not d3_file.is_file():
            return JSONResponse(
                status_code=503,
                content={
                    "detail": f"d3 is not installed at {d3_file}: run `make frontend` "
                    "(npm ci in frontend/)"
                },
            )
        return FileResponse(
            d3_file,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # A mount at "/" matches every path, so it must come after every other route.
    app.mount("/", _FrontendFiles(directory=frontend_dir, html=True), name="frontend")
