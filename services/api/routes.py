"""Liveness and the static frontend (REST is in ``rest.py``, the websocket in ``ws.py``).

The app wiring (lifespan, Kafka consumer, starting the hub's flush loop) lives in
``__main__``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from services.api.hub import TrendHub

log = logging.getLogger(__name__)

D3_PATH = PurePosixPath("node_modules/d3/dist/d3.min.js")

# Everything the page needs is served from here; posters may come from TMDb's image CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def build_router(hub: TrendHub) -> APIRouter:
    """Return the api's operational routes (liveness), serving from ``hub``."""
    router = APIRouter()

    @router.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """Report liveness, connected clients and how many titles each window holds."""
        return {
            "status": "ok",
            "clients": len(hub.clients),
            "titles": hub.title_counts(),
            "stats": asdict(hub.stats),
        }

    return router


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
