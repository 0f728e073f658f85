"""The REST api: rankings, titles and their history, time travel, genres, sources, models, drift.

Thin by design: validate, read (the hub for what is live, Postgres for the rest), return.
Bad parameters get a 400 whose JSON body names the parameter; unknown ids a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, ValidationError

from services.api.hub import TrendHub
from services.api.protocol import MAX_LIMIT
from services.api.settings import ApiSettings
from trendkit.contracts import MediaType, TrendScored, Window
from trendkit.db.database import Database


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


def build_rest_router(hub: TrendHub, db: Database, settings: ApiSettings) -> APIRouter:
    """Return the REST routes, serving live rankings from ``hub`` and the rest from ``db``."""
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

    return router
